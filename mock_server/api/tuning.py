"""AsyncApp that decorates each handler once, instead of on every request as Connexion 3.3 does.

Connexion's AsyncOperation builds its parameter/response decorators and inspects the handler's
signature for every request (~0.3 ms of a ~1 ms list request). The decorators only read the
current operation from Connexion's context at call time, so building them once per operation is
equivalent. Everything else — routing, security, validation, context — is Connexion's own.
"""

from __future__ import annotations

import functools

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.uri_parsing import OpenAPIURIParser
from starlette.types import Receive, Scope, Send


class CachedURIParser(OpenAPIURIParser):
    """Connexion's OpenAPI URI parser, with `param_schemas` built once instead of on every access
    (it is read for every query key of every request; the definitions never change)."""

    @functools.cached_property
    def param_schemas(self):
        return super().param_schemas


class _DecoratedOnce(AsyncOperation):
    @functools.cached_property
    def _decorated(self):
        decorator = StarletteDecorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator, decorator.decorate(self._fn)

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        decorator, function = self._decorated
        request = decorator.framework.get_request(uri_parser=decorator.uri_parser, scope=scope, receive=receive)
        response = await function(request)
        return await response(scope, receive, send)


class _Api(AsyncApi):
    def make_operation(self, operation) -> AsyncOperation:
        return _DecoratedOnce.from_operation(operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)


class _ASGIApp(AsyncASGIApp):
    api_cls = _Api


class TunedAsyncApp(AsyncApp):
    def __init__(self, import_name: str, **kwargs) -> None:
        kwargs.setdefault("uri_parser_class", CachedURIParser)
        super().__init__(import_name, **kwargs)
        # Swap the innermost app before any API is added (they are added when the stack is built).
        self._middleware_app = _ASGIApp()
        self.middleware.app = self._middleware_app
