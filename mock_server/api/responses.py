"""Response builders: JSON via orjson with the exact media type the contract names, and the error envelope."""

from __future__ import annotations

import logging

import orjson
from connexion.lifecycle import ConnexionResponse

from ..domain.errors import ApiError

JSON = "application/json"
CALENDAR = "text/calendar"

log = logging.getLogger("mock_server")


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> ConnexionResponse:
    # Connexion's decorator passes a ConnexionResponse through untouched, so orjson does the
    # encoding and the Content-Type stays exactly `application/json` (no charset suffix).
    return ConnexionResponse(
        status_code=status, mimetype=JSON, body=orjson.dumps(body), headers={**(headers or {}), "Content-Type": JSON}
    )


def error_response(exc: ApiError, request_id: str) -> ConnexionResponse:
    """The one renderer of every error the mock returns."""
    if exc.status >= 500:
        log.error("%s %s: %s", request_id, exc.code, exc.message)
    return json_response(exc.envelope(request_id), exc.status, exc.headers)
