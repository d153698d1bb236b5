"""Runs a mutation under an idempotency key: reserve, (optionally) delay, act, store, or replay."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
from connexion.lifecycle import ConnexionResponse

from ..domain.backend import Backend, Principal
from ..domain.errors import ApiError
from ..domain.idempotency import StoredResponse, fingerprint
from .responses import JSON, error_response
from .state import RequestState

# Outcomes the contract says are not stored, so a corrected retry with the same key executes.
_NOT_STORED = {400, 401, 403, 429}


def _storable(status: int) -> bool:
    return status not in _NOT_STORED and status < 500


def _replay(stored: StoredResponse, request_id: str) -> ConnexionResponse:
    body = stored.body
    if stored.status >= 400:
        # The stored envelope names the first request's id; a replay is a new request with its own.
        envelope = orjson.loads(body)
        envelope["error"]["request_id"] = request_id
        body = orjson.dumps(envelope)
    return ConnexionResponse(
        status_code=stored.status, mimetype=JSON, body=body, headers={**stored.headers, "Idempotent-Replayed": "true"}
    )


async def run_idempotent(
    backend: Backend,
    state: RequestState,
    principal: Principal,
    key: str | None,
    method: str,
    path: str,
    fingerprinted_body: object,
    action: Callable[[], ConnexionResponse],
) -> ConnexionResponse:
    """Execute `action` at most once per (workspace, key, request); domain work stays synchronous.

    The optional processing delay sleeps after the key is reserved and before the action, so a
    concurrent retry sees 409 idempotency_in_progress while the domain change itself is atomic.
    """
    workspace = principal.workspace
    delay = workspace.processing_delay_ms / 1000
    if key is None:
        if delay:
            await asyncio.sleep(delay)
        return action()

    store = backend.idempotency
    stored = store.begin(workspace.id, key, fingerprint(method, path, fingerprinted_body))
    if stored is not None:
        return _replay(stored, state.request_id)
    try:
        if delay:
            await asyncio.sleep(delay)
        try:
            response = action()
        except ApiError as exc:
            if not _storable(exc.status):
                raise
            response = error_response(exc, state.request_id)
    except BaseException:
        store.release(workspace.id, key)
        raise
    if _storable(response.status_code):
        headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-type", "location")}
        store.finish(workspace.id, key, StoredResponse(response.status_code, response.body, headers))
    else:
        store.release(workspace.id, key)
    return response
