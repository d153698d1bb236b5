"""The webhook domain: signing, the retry policy, endpoint registration and the delivery record."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from mock_server.domain.backend import Backend
from mock_server.domain.errors import EventNotFound, InvalidRequest, WebhookNotConfigured, WebhookNotFound
from mock_server.domain.webhooks import DeliveryStatus, RetryPolicy, sign

from .conftest import create


class SteppingClock:
    def __init__(self) -> None:
        self.at = datetime(2030, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def test_sign_is_hmac_sha256_hex_of_the_raw_body_keyed_with_the_whole_secret():
    body = b'{"id":"evt_1","type":"booking.created"}'
    assert sign("whsec_abc", body) == hmac.new(b"whsec_abc", body, hashlib.sha256).hexdigest()
    assert sign("whsec_abc", body) != hmac.new(b"abc", body, hashlib.sha256).hexdigest()
    assert sign("whsec_abc", body).islower() and len(sign("whsec_abc", body)) == 64


def test_retry_policy_doubles_from_the_base_up_to_the_cap():
    policy = RetryPolicy(max_attempts=10, base_delay_s=1, max_delay_s=300)
    assert [policy.delay_after(n) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert RetryPolicy().to_wire() == {"max_attempts": 10, "base_delay_ms": 1000, "max_delay_ms": 300000, "timeout_ms": 10000}
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(timeout_s=0)


def test_register_keeps_the_secret_when_none_is_given_and_validates_inputs(backend: Backend):
    first = backend.register_webhook("ws_demo", url="http://127.0.0.1:9/a")
    assert first.secret.startswith("whsec_")
    again = backend.register_webhook("ws_demo", url="http://127.0.0.1:9/b", max_attempts=3, base_delay_ms=250)
    assert (again.secret, again.url, again.policy.max_attempts, again.policy.base_delay_s) == (first.secret, "http://127.0.0.1:9/b", 3, 0.25)
    for bad in ({"url": "mailto:x@example.com"}, {"url": "http://127.0.0.1:9/", "secret": "nope"},
                {"url": "http://127.0.0.1:9/", "timeout_ms": 0}):
        with pytest.raises(InvalidRequest):
            backend.register_webhook("ws_demo", **bad)
    backend.remove_webhook("ws_demo")
    with pytest.raises(WebhookNotFound):
        backend.webhook_endpoint("ws_demo")


def test_redelivery_needs_an_endpoint_and_a_known_event(backend: Backend, demo):
    create(backend, demo)
    event = backend.events_of("ws_demo")[0]
    with pytest.raises(WebhookNotConfigured):
        backend.redelivery(event.id)
    with pytest.raises(EventNotFound):
        backend.redelivery("evt_nope")
    backend.register_webhook("ws_demo", url="http://127.0.0.1:9/")
    delivery = backend.redelivery(event.id)
    assert delivery.redelivery and delivery.event is event and delivery.status is DeliveryStatus.PENDING


def test_record_attempt_schedules_retries_then_fails_after_the_last():
    clock = SteppingClock()
    backend = Backend(seed=1, wall_clock=clock)
    backend.register_webhook("ws_demo", url="http://127.0.0.1:9/", max_attempts=3, base_delay_ms=500)
    principal = backend.authenticate("sk_test_demo_rw")
    create(backend, principal, start="2030-01-02T14:00:00Z", end="2030-01-02T15:00:00Z")
    registry, policy = backend.webhooks, backend.webhook_endpoint("ws_demo").policy
    delivery = registry.open_delivery(backend.events_of("ws_demo")[0])
    waits = []
    for status in (503, None, 500):
        waits.append(registry.record_attempt(delivery, url="u", started_at=clock.now(), latency_ms=3, response_status=status,
                                             error=None if status else "refused", policy=policy))
    assert waits == [0.5, 1.0, None]
    assert delivery.status is DeliveryStatus.FAILED and delivery.failure == "not acknowledged after 3 attempts"
    assert [a.next_retry_at for a in delivery.attempts] == [clock.at + timedelta(seconds=0.5), clock.at + timedelta(seconds=1), None]
    wire = delivery.to_wire()
    assert wire["attempts"][0]["attempted_at"] == "2030-01-01T00:00:00.000Z" and wire["attempts"][1]["response_status"] is None


def test_a_2xx_ends_the_delivery_and_reset_forgets_control_api_endpoints(backend: Backend, demo):
    backend.register_webhook("ws_demo", url="http://127.0.0.1:9/")
    create(backend, demo)
    delivery = backend.webhooks.open_delivery(backend.events_of("ws_demo")[0])
    policy = backend.webhook_endpoint("ws_demo").policy
    assert backend.webhooks.record_attempt(delivery, url="u", started_at=delivery.queued_at, latency_ms=1, response_status=204,
                                           error=None, policy=policy) is None
    assert delivery.status is DeliveryStatus.SUCCEEDED
    backend.reset()
    with pytest.raises(WebhookNotFound):
        backend.webhook_endpoint("ws_demo")
    assert backend.webhooks.deliveries_of("ws_demo") == []
