"""Every failure, whoever raised it, rendered as the error envelope: the mock's one error path."""

from __future__ import annotations

import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from ..domain import errors
from .responses import error_response
from .state import SCOPE_KEY

log = logging.getLogger("mock_server")


def _request_id(request: ConnexionRequest) -> str:
    state = request.scope.get(SCOPE_KEY)
    return state.request_id if state is not None else "req_unknown"


def on_api_error(request: ConnexionRequest, exc: errors.ApiError) -> ConnexionResponse:
    return error_response(exc, _request_id(request))


def _translate(status: int, detail: str | None) -> errors.ApiError:
    """Connexion's and Starlette's own exceptions, in our codes (they only occur for these statuses)."""
    if status == 401:
        return errors.AuthInvalid(
            "Missing bearer token: send Authorization: Bearer sk_live_… or sk_test_…."
        )
    if status == 403:
        return errors.AuthScopeInsufficient()
    if status == 404:
        return errors.NotFound()
    if status == 413:
        return errors.PayloadTooLarge()
    if status == 415:
        return errors.UnsupportedMediaType(f"{detail} Send application/json." if detail else None)
    if 400 <= status < 500:
        return errors.InvalidRequest(detail or None)
    return errors.InternalError()


def on_problem(request: ConnexionRequest, exc: ProblemException) -> ConnexionResponse:
    return error_response(_translate(exc.status, exc.detail), _request_id(request))


def on_http_exception(request: ConnexionRequest, exc: HTTPException) -> ConnexionResponse:
    return error_response(_translate(exc.status_code, None), _request_id(request))


def on_overflow(request: ConnexionRequest, exc: OverflowError) -> ConnexionResponse:
    # Date arithmetic is saturating where inputs reach it; this is the net under anything missed.
    return error_response(errors.InvalidRequest("A date-time in the request is outside the range this API can compute with."), _request_id(request))


def on_unexpected(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    request_id = _request_id(request)
    log.error("%s unhandled %r", request_id, exc, exc_info=exc)
    return error_response(errors.InternalError(f"Something went wrong on our side. Quote request_id {request_id} to support."), request_id)


def install(app) -> None:
    app.add_error_handler(errors.ApiError, on_api_error)
    app.add_error_handler(ProblemException, on_problem)
    app.add_error_handler(HTTPException, on_http_exception)
    app.add_error_handler(OverflowError, on_overflow)
    app.add_error_handler(Exception, on_unexpected)
