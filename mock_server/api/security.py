"""Bearer and `?token=` authentication that enforces each operation's scopes (Connexion's does not).

Installed through Connexion's `security_map`; Connexion instantiates the handler classes itself, so
the factory below binds them to one backend.
"""

from __future__ import annotations

from connexion.security import NO_VALUE, AbstractSecurityHandler

from ..domain.backend import Backend, Principal
from ..domain.errors import AuthInvalid, AuthScopeInsufficient
from .state import state_of

_INVALID_TOKEN = 'Bearer realm="litehq", error="invalid_token"'


def authorize(backend: Backend, token: str, required_scopes: list[str], scope: dict) -> dict:
    """Map a presented key to its principal, or raise 401/403. Order: known → live → scoped."""
    state = state_of(scope)
    api_key = backend.identify(token)
    if api_key is None:
        raise AuthInvalid("Unknown API key.", headers={"WWW-Authenticate": _INVALID_TOKEN})
    workspace = backend.store.workspaces[api_key.workspace_id]
    # The key names its workspace, so even its 401/403 reports the bucket (without taking a token).
    state.rate_headers = backend.rate_limiter.peek(workspace.id, api_key.token, workspace.rate_limit).headers()
    if api_key.revoked:
        raise AuthInvalid("This API key has been revoked.", headers={"WWW-Authenticate": _INVALID_TOKEN})
    missing = [s for s in required_scopes or () if s not in api_key.scopes]
    if missing:
        granted = ", ".join(sorted(api_key.scopes)) or "no scope"
        raise AuthScopeInsufficient(f"This operation needs the {', '.join(missing)} scope; the token has {granted}.")
    state.principal = Principal(api_key, workspace)
    return {"sub": api_key.token, "workspace_id": workspace.id}


def security_map(backend: Backend) -> dict[str, type[AbstractSecurityHandler]]:
    class BearerKey(AbstractSecurityHandler):
        def get_fn(self, security_scheme, required_scopes):
            def verify(request):
                header = request.headers.get("Authorization")
                if header is None:
                    return NO_VALUE  # let another scheme (the feed's ?token=) have a go
                scheme, _, token = header.strip().partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise AuthInvalid(
                        "Malformed Authorization header: send Authorization: Bearer sk_live_… or sk_test_….",
                        headers={"WWW-Authenticate": _INVALID_TOKEN},
                    )
                return authorize(backend, token.strip(), required_scopes, request.scope)

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
