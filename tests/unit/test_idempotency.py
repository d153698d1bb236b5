"""Idempotency keys: reserve, replay, conflict, in progress, retention against the mock clock."""

from datetime import timedelta

import pytest

from mock_server.domain.errors import IdempotencyConflict, IdempotencyInProgress
from mock_server.domain.idempotency import IdempotencyStore, StoredResponse, fingerprint


@pytest.fixture
def keys(clock):
    return IdempotencyStore(clock)


RESPONSE = StoredResponse(201, b'{"id":"bk_1"}', {"Location": "/v1/bookings/bk_1"})


def test_fingerprint_canonical_json_ignores_key_order_and_spacing():
    assert fingerprint("POST", "/v1/bookings", {"a": 1, "b": [1, 2]}) == fingerprint("post", "/v1/bookings", {"b": [1, 2], "a": 1})
    assert fingerprint("POST", "/v1/bookings", {"a": 1}) != fingerprint("POST", "/v1/bookings", {"a": 2})
    assert fingerprint("POST", "/v1/bookings/bk_1/cancel", None) != fingerprint("POST", "/v1/bookings/bk_2/cancel", None)


def test_begin_new_key_reserves_then_replays_stored_response(keys):
    assert keys.begin("ws", "k1", "fp") is None
    keys.finish("ws", "k1", RESPONSE)
    assert keys.begin("ws", "k1", "fp") == RESPONSE


def test_begin_same_key_other_request_raises_conflict(keys):
    keys.begin("ws", "k1", "fp")
    keys.finish("ws", "k1", RESPONSE)
    with pytest.raises(IdempotencyConflict) as exc:
        keys.begin("ws", "k1", "other")
    assert exc.value.param == "Idempotency-Key"


def test_begin_while_first_executes_raises_in_progress(keys):
    keys.begin("ws", "k1", "fp")
    with pytest.raises(IdempotencyInProgress):
        keys.begin("ws", "k1", "fp")


def test_begin_keys_are_scoped_per_workspace(keys):
    keys.begin("ws_a", "k1", "fp")
    assert keys.begin("ws_b", "k1", "other") is None


def test_release_lets_the_key_execute_again(keys):
    keys.begin("ws", "k1", "fp")
    keys.release("ws", "k1")
    assert keys.begin("ws", "k1", "other") is None


def test_begin_after_24h_key_is_forgotten(keys, clock):
    keys.begin("ws", "k1", "fp")
    keys.finish("ws", "k1", RESPONSE)
    clock.advance(timedelta(hours=23, minutes=59))
    assert keys.begin("ws", "k1", "fp") == RESPONSE
    clock.advance(timedelta(minutes=1))
    assert keys.begin("ws", "k1", "other") is None
