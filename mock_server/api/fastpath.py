"""The hot path: each Calendar API operation's request pipeline, assembled once from Connexion's own parts.

Connexion sends every request through its error handling, routing, security, our rate limit,
request validation, context and its handler decorators, and rebuilds on every request what depends
only on the operation: URI parsers, parameter validators, decorated handlers, the handler's
signature, the pythonic names of its arguments. Together that was ~80 % of a list request (py-spy,
see README "Performance"). `CompiledOperations` sits right inside the request frame and, for a
request to a compiled operation, runs the same steps in the same order with the objects Connexion
built at start-up for that operation:

    security    the operation's SecurityOperation.verification_fn (our scoped bearer handler)
    rate limit  take_token(), as the RateLimit middleware does
    parameters  Connexion's URI parser (path, query, coercion) and our validator from validator_map
    media type  the RequestValidationOperation's own extract/validate (kept per Content-Type value)
    body        our body validator from validator_map, as RequestValidationOperation calls it
    context     the four context variables ContextMiddleware sets
    handler     kwargs as Connexion's get_arguments forms them (definitions looked up once, a
                memoised `pythonic`), and the response sent as Connexion's response decorator and
                Starlette's Response would send it

Whatever a step raises is handed to copies of Connexion's two error middlewares (same classes,
same registered handlers) around an app that raises it, so errors are rendered — or re-raised —
by the same code as before. Requests that are not plain — HEAD, form-encoded bodies (which
Connexion's parameter decorator parses even on GET), operations whose handler takes a body,
**kwargs or files — and every other operation (the control API) continue down Connexion's own
stack unchanged. Start-up fails loudly if the middleware stack is not the one this module
replicates, so a middleware added later is never silently bypassed.

`create_app(fast_path=False)` sends everything through Connexion; tests/mock/test_fast_path.py
sends the same requests to both (successes, every kind of refusal, a crashing handler, a failing
send, random requests) and requires byte-identical responses.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qsl

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import CONTEXT_NAME, _get_query_defaults, _get_val_from_param, pythonic, unwrap_decorators
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette, starlettify_path
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.utils import deep_merge, inspect_function_arguments, is_nullable
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.backend import Backend
from .pipeline import RateLimit, take_token
from .state import SCOPE_KEY

log = logging.getLogger("connexion.middleware.validation")

# The part of Connexion's stack this module stands in for, outermost first. The first two render
# errors: a compiled request's exception is replayed through copies of them (see `_render_error`).
REPLICATED_STACK = (
    ServerErrorMiddleware, ExceptionMiddleware,
    RoutingMiddleware, SecurityMiddleware, RateLimit, RequestValidationMiddleware, LifespanMiddleware, ContextMiddleware,
)
_RAISING: ContextVar[tuple[BaseException, bool]] = ContextVar("fastpath_raising")

# `pythonic` (regexes and inflection) is a pure function of the name; Connexion calls it for every
# argument of every request. Memoised, bounded: unknown query keys come from clients.
_pythonic = functools.lru_cache(maxsize=4096)(pythonic)


class StackMismatch(RuntimeError):
    pass


@dataclass(slots=True)
class _Route:
    pattern: re.Pattern
    convertors: dict
    operation: CompiledOperation


@dataclass(slots=True, frozen=True)
class _MediaPlan:
    """What RequestValidationOperation derives from one Content-Type for an operation's body."""

    encoding: str
    schema: dict
    validator_factory: object
    required: bool
    nullable: bool


_NO_BODY_VALIDATION = object()


class CompiledOperation:
    """One operation's pipeline, holding the objects each Connexion middleware built for it."""

    def __init__(self, *, backend: Backend, base_path: str, security, validation, context, handler) -> None:
        self.backend = backend
        self.base_path = base_path
        self.operation_id = handler.operation_id
        self.routing = {"api_base_path": base_path, "operation_id": self.operation_id}
        # security: Connexion skips operations without a security requirement
        self.verify = security.verification_fn if security.security else None
        # validation: what RequestValidationOperation builds per request, built once
        self.validation = validation
        spec_operation = validation._operation
        self.spec_operation = spec_operation
        self.uri_parser = spec_operation.uri_parser_class(spec_operation.parameters, spec_operation.body_definition())
        self.parameters = validation._validator_map["parameter"](
            spec_operation.parameters,
            uri_parser=self.uri_parser,
            strict_validation=validation.strict_validation,
            security_query_params=validation.security_query_params,
        )
        self.body_validators = validation._validator_map["body"]
        # Without a request body, the media-type and body steps do nothing: no `consumes` to check
        # against, and body_schema() is {} whatever the Content-Type.
        self.takes_body = bool(spec_operation.request_body)
        self.media_plans: dict[bytes | None, object] = {}
        # context and handler: what ContextOperation and the handler's decorators use
        self.context_operation = operation = context.operation
        self.function = handler._fn
        self.arguments, _ = inspect_function_arguments(unwrap_decorators(self.function))
        self.responses = AsyncResponseDecorator(framework=Starlette, jsonifier=handler.jsonifier)
        # get_arguments' per-request lookups, done once: definitions by location and query defaults.
        self.path_definitions = {p["name"]: p for p in operation.parameters if p["in"] == "path"}
        self.query_definitions = {p["name"]: p for p in operation.parameters if p["in"] == "query"}
        self.query_defaults = _get_query_defaults(self.query_definitions)
        self.copy_defaults = not all(_immutable(v) for v in self.query_defaults.values())

    @classmethod
    def supports(cls, handler, context_operation) -> bool:
        """Handlers whose arguments Connexion fills only from path and query parameters."""
        function = handler._fn
        if not asyncio.iscoroutinefunction(function) or not handler.pythonic_params:
            return False
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(function))
        if has_kwargs or CONTEXT_NAME in arguments or context_operation.method.upper() == "TRACE":
            return False
        # A handler taking the body gets it read and passed by Connexion's decorator: leave it to that.
        return _pythonic(context_operation.body_name(None)) not in arguments

    def media_plan(self, headers: list) -> _MediaPlan | None:
        """RequestValidationOperation's media-type and body-validator steps for these headers.

        They depend only on the (first) Content-Type value, so their outcome is kept per value (a
        bounded number of them); a refused media type raises every time, as it does in Connexion.
        """
        raw = None
        for key, value in headers:
            if key.lower() == b"content-type":
                raw = value
                break
        plan = self.media_plans.get(raw)
        if plan is not None:
            return None if plan is _NO_BODY_VALIDATION else plan
        validation, operation = self.validation, self.spec_operation
        mime_type, encoding = validation.extract_content_type(headers)
        validation.validate_mime_type(mime_type)
        schema = operation.body_schema(mime_type)
        if not schema:
            plan = _NO_BODY_VALIDATION
        else:
            try:
                factory = self.body_validators[mime_type]
            except KeyError:
                # Connexion logs this on every such request: do the same, and keep nothing.
                log.info(f"Skipping validation. No validator registered for content type: {mime_type}.")
                return None
            plan = _MediaPlan(encoding, schema, factory, operation.request_body.get("required", False),
                              is_nullable(operation.body_definition(mime_type)))
        if len(self.media_plans) < 32:
            self.media_plans[raw] = plan
        return None if plan is _NO_BODY_VALIDATION else plan

    def arguments_for(self, path: dict, query: dict, context: dict) -> dict:
        """The handler's kwargs, as Connexion's get_arguments and prep_kwargs form them for a handler
        that takes neither the body, files, **kwargs nor context_ (see `supports`)."""
        found = {}
        for name, value in path.items():
            definition = self.path_definitions.get(name)
            found[_pythonic(name)] = _get_val_from_param(value, definition) if definition is not None else value
        merged = copy.deepcopy(self.query_defaults) if self.copy_defaults else dict(self.query_defaults)
        for name, value in deep_merge(merged, query).items():
            key = _pythonic(name)
            definition = self.query_definitions.get(name)
            if key in self.arguments and definition is not None:
                found[key] = _get_val_from_param(value, definition)
        kwargs = {_pythonic(k): v for k, v in found.items()}
        for key, value in context.items():
            if key in self.arguments:
                kwargs[key] = value
        return kwargs

    async def __call__(self, scope: Scope, receive: Receive, send: Send, path_params: dict) -> None:
        # Routing (RoutingOperation): path parameters and the routing context on the scope.
        scope.setdefault("path_params", {}).update(path_params)
        scope.setdefault("extensions", {}).setdefault(ROUTING_CONTEXT, {}).update(self.routing)

        # Security (SecurityOperation).
        if self.verify is not None:
            await self.verify(ConnexionRequest(scope))

        # Rate limit (RateLimit).
        take_token(self.backend, scope.get(SCOPE_KEY))

        # Request validation (RequestValidationOperation): parameters, media type, body. The query is
        # parsed as ConnexionRequest.query_params parses it (Starlette's QueryParams, then the URI
        # parser), once for validation and arguments both.
        query_string = scope["query_string"]
        query = self.uri_parser.resolve_query(_grouped(query_string)) if query_string else {}
        path = self.uri_parser.resolve_path(scope["path_params"])
        self.parameters.check(query, path, scope)
        if self.takes_body:
            media = self.media_plan(scope["headers"])
            if media is not None:
                validator = media.validator_factory(
                    schema=media.schema,
                    required=media.required,
                    nullable=media.nullable,
                    encoding=media.encoding,
                    strict_validation=self.validation.strict_validation,
                    uri_parser=self.uri_parser,
                )
                receive, scope = await validator.wrap_receive(receive, scope=scope)

        # Context (ContextOperation).
        context = scope.get("extensions", {}).get("connexion_context", {})
        _context.set(context)
        _operation.set(self.context_operation)
        _receive.set(receive)
        _scope.set(scope)

        # Handler (the parameter decorator's prep_kwargs, then the response decorator).
        result = await self.function(**self.arguments_for(path, query, context))
        state = scope[SCOPE_KEY]
        if isinstance(result, ConnexionResponse) and (result.body is None or isinstance(result.body, bytes | str)):
            state.response_started = True  # from here on, as the error middlewares would count it
            await _send_response(result, send)
            return
        if Starlette.is_framework_response(result):
            response = result
        elif isinstance(result, ConnexionResponse):
            response = Starlette.connexion_to_framework_response(result)
        else:
            response = self.responses.build_framework_response(result)
        state.response_started = True
        await response(scope, receive, send)


async def _send_response(result: ConnexionResponse, send: Send) -> None:
    """Send a handler's ConnexionResponse with a bytes or text body as Connexion does — through
    `Starlette.connexion_to_framework_response` to a Starlette Response (same rendering, same headers
    in the same order) — without building the two objects in between."""
    body = result.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")  # Response.charset
    status = result.status_code
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in result.headers.items()]
    keys = [h[0] for h in headers]
    if b"content-length" not in keys and not (status < 200 or status in (204, 304)):
        headers.append((b"content-length", str(len(body)).encode("latin-1")))
    content_type = result.content_type
    if content_type is not None and b"content-type" not in keys:
        if content_type.startswith("text/") and "charset=" not in content_type.lower():
            content_type += "; charset=utf-8"
        headers.append((b"content-type", content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})




def _immutable(value) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _grouped(query_string: bytes) -> dict[str, list[str]]:
    """`{key: args.getlist(key) for key in args}` of Starlette's QueryParams, without building it."""
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        values = grouped.get(key)
        if values is None:
            grouped[key] = [value]
        else:
            values.append(value)
    return grouped


class CompiledOperations:
    """Middleware: compiled operations for plain requests, Connexion's stack for everything else."""

    def __init__(self, app: ASGIApp, *, backend: Backend, skip_base_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.backend = backend
        self.skip_base_paths = skip_base_paths
        self._static: dict[tuple[str, str], CompiledOperation] | None = None
        self._templated: dict[str, list[_Route]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._static is None:
                self.compile()
            method = scope["method"]
            path = scope["path"]
            compiled = self._static.get((method, path))
            path_params: dict = {}
            if compiled is None:
                for route in self._templated.get(method, ()):
                    match = route.pattern.match(path)
                    if match is not None:
                        compiled = route.operation
                        path_params = {k: route.convertors[k].convert(v) for k, v in match.groupdict().items()}
                        break
            if compiled is not None and not _form_encoded(scope):
                try:
                    await compiled(scope, receive, send, path_params)
                except Exception as exc:
                    await self._render_error(scope, receive, send, exc)
                return
        await self.app(scope, receive, send)

    async def _render_error(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Answer (or re-raise) exactly as Connexion's error middlewares do for an exception from the
        app inside them: they are run, as copies sharing their handlers, around an app that raises
        `exc` — after a (swallowed) response start if the real response had already started, so they
        see what they would have seen."""
        started = scope[SCOPE_KEY].response_started
        token = _RAISING.set((exc, started))
        try:
            await self._error_replica(scope, receive, _swallow if started else send)
        finally:
            _RAISING.reset(token)

    def compile(self) -> None:
        """Collect, per operation, the objects each replicated middleware built for it."""
        stack, app = [], self.app
        for expected in REPLICATED_STACK:
            if not isinstance(app, expected):
                raise StackMismatch(
                    f"mock_server/api/fastpath.py replicates {[c.__name__ for c in REPLICATED_STACK]} but found "
                    f"{type(app).__name__} where {expected.__name__} should be; update CompiledOperations."
                )
            stack.append(app)
            app = app.next_app if isinstance(app, LifespanMiddleware) else app.app
        server_errors, exceptions, routing, security, _, validation, _, context = stack
        replica_exceptions = copy.copy(exceptions)
        replica_exceptions.app = _raise_current
        self._error_replica = copy.copy(server_errors)
        self._error_replica.app = replica_exceptions
        handlers = app  # the innermost app: Connexion's AsyncASGIApp (ours, tuning._ASGIApp)
        static: dict[tuple[str, str], CompiledOperation] = {}
        templated: dict[str, list[_Route]] = {}
        for base_path in handlers.apis:
            if base_path in self.skip_base_paths:
                continue
            for handler_api, security_api, validation_api, context_api in zip(
                handlers.apis[base_path], security.apis[base_path], validation.apis[base_path], context.apis[base_path], strict=True
            ):
                for path, methods in handler_api.specification.get("paths", {}).items():
                    for method, spec in methods.items():
                        operation_id = spec.get("operationId") if isinstance(spec, dict) else None
                        handler = handler_api.operations.get(operation_id)
                        if handler is None:
                            continue
                        context_operation = context_api.operations[operation_id]
                        if not CompiledOperation.supports(handler, context_operation.operation):
                            continue
                        compiled = CompiledOperation(
                            backend=self.backend, base_path=base_path, security=security_api.operations[operation_id],
                            validation=validation_api.operations[operation_id], context=context_operation, handler=handler,
                        )
                        template = base_path + starlettify_path(path)
                        if "{" in template:
                            pattern, _, convertors = compile_path(template)
                            templated.setdefault(method.upper(), []).append(_Route(pattern, convertors, compiled))
                        else:
                            static[(method.upper(), template)] = compiled
        self._templated = templated
        self._static = static


async def _raise_current(scope: Scope, receive: Receive, send: Send) -> None:
    exc, started = _RAISING.get()
    if started:
        await send({"type": "http.response.start", "status": 500, "headers": []})
    raise exc


async def _swallow(message: Message) -> None:
    pass


def _form_encoded(scope: Scope) -> bool:
    """Form bodies are parsed by Connexion's parameter decorator whatever the operation; leave them to it."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-type" and b"form" in value.lower():
            return True
    return False
