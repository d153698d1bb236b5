"""One exception class per failure, each carrying its stable wire code and HTTP status."""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    """A failure the client is told about, rendered as the error envelope by one handler."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Something went wrong on our side."

    def __init__(
        self,
        message: str | None = None,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.param = param
        self.headers = dict(headers or {})
        super().__init__(self.message)

    def envelope(self, request_id: str) -> dict:
        detail: dict = {"code": self.code, "message": self.message, "request_id": request_id}
        if self.param is not None:
            detail["param"] = self.param
        return {"error": detail}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, param={self.param!r})"


class InvalidRequest(ApiError):
    code, status = "invalid_request", 400
    default_message = "The request is invalid."


# RFC 6750 §3: a presented but bad token is `invalid_token`; a request without one gets the bare challenge.
BEARER_CHALLENGE = 'Bearer realm="litehq"'
INVALID_TOKEN_CHALLENGE = 'Bearer realm="litehq", error="invalid_token"'


class AuthInvalid(ApiError):
    code, status = "auth_invalid", 401
    default_message = "Bearer token missing, malformed, unknown or revoked."

    def __init__(self, message: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)


class AuthScopeInsufficient(ApiError):
    code, status = "auth_scope_insufficient", 403
    default_message = "This token lacks the scope this operation needs."


class BookingNotFound(ApiError):
    code, status = "booking_not_found", 404
    default_message = "No such booking in this workspace."


class RoomNotFound(ApiError):
    code, status = "room_not_found", 404
    default_message = "No such room in this workspace."


class NotFound(ApiError):
    code, status = "not_found", 404
    default_message = "No such route."


class MethodNotAllowed(ApiError):
    code, status = "method_not_allowed", 405
    default_message = "This route does not accept this method."

    def __init__(self, message: str | None = None, *, allow: list[str], **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.headers["Allow"] = ", ".join(allow)


class SlotUnavailable(ApiError):
    code, status = "slot_unavailable", 409
    default_message = "The slot is not available."


class BookingNotEditable(ApiError):
    code, status = "booking_not_editable", 409
    default_message = "The booking can no longer be changed."


class BookingNotCancellable(ApiError):
    code, status = "booking_not_cancellable", 409
    default_message = "The booking is already cancelled, expired or completed."


class IdempotencyConflict(ApiError):
    code, status = "idempotency_conflict", 409
    default_message = "This idempotency key was already used with a different request."


class IdempotencyInProgress(ApiError):
    code, status = "idempotency_in_progress", 409
    default_message = "The first request with this idempotency key is still executing; retry shortly."


class StripeUnconfigured(ApiError):
    code, status = "stripe_unconfigured", 412
    default_message = "This workspace hasn't completed Stripe Connect onboarding."


class PayloadTooLarge(ApiError):
    code, status = "payload_too_large", 413
    default_message = "The request body is larger than 1 MB."


class UnsupportedMediaType(ApiError):
    code, status = "unsupported_media_type", 415
    default_message = "Send the request body as application/json."


class SlotMisaligned(ApiError):
    code, status = "slot_misaligned", 422
    default_message = "start_at / end_at don't sit on the room's slot grid."


class RateLimited(ApiError):
    code, status = "rate_limited", 429
    default_message = "Rate limit exceeded; retry after retry_after_ms."

    def __init__(self, message: str | None = None, *, retry_after_ms: int, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_ms = retry_after_ms
        # Retry-After is whole seconds; round up so a client that honours it is never early.
        self.headers["Retry-After"] = str(max(1, -(-retry_after_ms // 1000)))

    def envelope(self, request_id: str) -> dict:
        body = super().envelope(request_id)
        body["error"]["retry_after_ms"] = self.retry_after_ms
        return body


class InternalError(ApiError):
    code, status = "internal_error", 500


# Control-API-only failures (documented in openapi/mock-control.yaml, never returned under /v1).


class WorkspaceNotFound(ApiError):
    code, status = "workspace_not_found", 404
    default_message = "No such workspace."


class CheckoutNotPending(ApiError):
    code, status = "checkout_not_pending", 409
    default_message = "The booking is not awaiting payment."


class NoShowNotAllowed(ApiError):
    code, status = "no_show_not_allowed", 409
    default_message = "Only a confirmed or completed booking can be marked as a no-show."


class EventNotFound(ApiError):
    code, status = "event_not_found", 404
    default_message = "No such event."


class WebhookNotFound(ApiError):
    code, status = "webhook_not_found", 404
    default_message = "The workspace has no webhook endpoint."


class WebhookNotConfigured(ApiError):
    code, status = "webhook_not_configured", 409
    default_message = "The workspace has no webhook endpoint; register one with PUT /_mock/workspaces/{id}/webhook."


def all_error_classes() -> list[type[ApiError]]:
    """Every concrete error class, for the test that pins codes to the contract's enum."""
    found: list[type[ApiError]] = []
    pending = [ApiError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found
