"""Bearer and `?token=` authentication that enforces each operation's scopes (Connexion's does not).

Installed through Connexion's `security_map`; Connexion instantiates the handler classes itself, so
the factory below binds them to one backend.
"""

from __future__ import annotations

from connexion.security import NO_VALUE, AbstractSecurityHandler

from ..domain.backend import Backend
from ..domain.errors import INVALID_TOKEN_CHALLENGE, AuthInvalid
from .state import state_of


def authorize(backend: Backend, token: str, required_scopes: list[str], scope: dict) -> dict:
    """Authenticate for this operation and remember the caller for the rate limiter and handlers."""
    principal = backend.authenticate(token, tuple(required_scopes or ()))
    state_of(scope).principal = principal
    return {"sub": principal.token.token, "workspace_id": principal.workspace.id}


def _first_header(scope: dict, name: bytes) -> str | None:
    """`Headers(scope=scope).get(name)` — the first such header, latin-1 — without building Headers."""
    for key, value in scope["headers"]:
        if key == name:  # ASGI header names are lower case; Headers compares them as they are
            return value.decode("latin-1")
    return None


def security_map(backend: Backend) -> dict[str, type[AbstractSecurityHandler]]:
    class BearerKey(AbstractSecurityHandler):
        def get_fn(self, security_scheme, required_scopes):
            def verify(request):
                scope = request.scope
                header = _first_header(scope, b"authorization")
                if header is None:
                    return NO_VALUE  # let another scheme (the feed's ?token=) have a go
                scheme, _, token = header.strip().partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise AuthInvalid(
                        "Malformed Authorization header: send Authorization: Bearer sk_live_… or sk_test_….",
                        headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
                    )
                return authorize(backend, token.strip(), required_scopes, scope)

            return verify

    class QueryKey(AbstractSecurityHandler):
        def get_fn(self, security_scheme, required_scopes):
            name = security_scheme["name"]

            def verify(request):
                token = request.query_params.get(name)
                if token is None:
                    return NO_VALUE
                return authorize(backend, token, required_scopes, request.scope)

            return verify

    return {"bearer": BearerKey, "apiKey": QueryKey}
