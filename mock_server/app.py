"""App factory: one Backend, the two served documents, and Connexion wired around them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver

from .api import errors
from .api.calendar import CalendarApi
from .api.checkout import CheckoutPage
from .api.contract import Contract, ContractCheck, ServedDocument
from .api.control import ControlApi
from .api.fastpath import CompiledOperations
from .api.pipeline import RateLimit, RequestFrame, bind
from .api.routes import RouteTable
from .api.security import security_map
from .api.tuning import TunedAsyncApp
from .api.validation import BodyValidation, ParameterValidation, SchemaCache
from .api.webhooks import WebhookControlApi
from .delivery import WebhookDispatcher
from .domain.backend import Backend
from .domain.clock import Clock
from .domain.models import RateLimitPolicy
from .openapi31 import allow_openapi_31
from .reference_pages import ReferencePages

ROOT = Path(__file__).resolve().parent.parent
CALENDAR_SPEC = ROOT / "openapi" / "openapi.yaml"
CONTROL_SPEC = ROOT / "openapi" / "mock-control.yaml"
CONTROL_BASE_PATH = "/_mock"


def load_documents() -> tuple[dict, dict]:
    """The Calendar API bundled into one document (internal refs only), and the control API."""
    from tools.spec import bundle

    return bundle(CALENDAR_SPEC), yaml.safe_load(CONTROL_SPEC.read_text(encoding="utf-8"))


def create_app(
    *,
    fixture: Path | str | dict[str, Any] | None = None,
    clock: Clock | None = None,
    seed: int | str | None = None,
    validate_responses: bool = False,
    rate_limit: RateLimitPolicy | None = None,
    public_url: str = "http://127.0.0.1:8080",
    backend: Backend | None = None,
    documents: tuple[dict, dict] | None = None,
    fast_path: bool = True,
) -> AsyncApp:
    """Build the ASGI app. `validate_responses=True` checks every response against the contract
    (and records violations in `app.contract_violations`); the test suite always turns it on.
    `documents` (from `load_documents()`) saves re-reading the YAML when many apps are built.
    `fast_path=False` leaves every request to Connexion's own stack (api/fastpath.py)."""
    allow_openapi_31()
    backend = backend or Backend(fixture=fixture, clock=clock, seed=seed, public_url=public_url, rate_limit=rate_limit)
    calendar_doc, control_doc = documents or load_documents()

    routes = RouteTable()
    routes.add_document(calendar_doc)
    routes.add_document(control_doc, CONTROL_BASE_PATH)
    violations: list[str] = []
    contract = Contract([
        ServedDocument("urn:litehq:calendar", calendar_doc, ""),
        ServedDocument("urn:litehq:control", control_doc, CONTROL_BASE_PATH),
    ])

    # Request order: frame → errors → routing → auth and scope → rate limit → validation → handler.
    frame = bind(RequestFrame, backend=backend, routes=routes)
    middlewares = [
        frame,
        bind(ServerErrorMiddleware, handler=errors.on_unexpected),
        ExceptionMiddleware,
        RoutingMiddleware,
        SecurityMiddleware,
        bind(RateLimit, backend=backend),
        RequestValidationMiddleware,
        LifespanMiddleware,
        ContextMiddleware,
    ]
    if fast_path:
        # The Calendar API's operations, compiled once from the stack below it (api/fastpath.py).
        compiled = bind(CompiledOperations, backend=backend, skip_base_paths=(CONTROL_BASE_PATH,))
        middlewares.insert(middlewares.index(frame) + 1, compiled)
    if validate_responses:
        middlewares.insert(0, bind(ContractCheck, contract=contract, violations=violations))
    # Outermost, outside the API's pipeline: the reference pages at /docs and /_mock/docs.
    middlewares.insert(0, bind(ReferencePages, calendar_doc=calendar_doc, control_doc=control_doc))

    # Webhook delivery subscribes to the backend's events; it runs on the server's event loop.
    webhooks = WebhookDispatcher(backend)
    handlers = {**CalendarApi(backend).operations(), **ControlApi(backend).operations(),
                **WebhookControlApi(backend, webhooks).operations(), **CheckoutPage(backend).operations()}
    schemas = SchemaCache()
    app = TunedAsyncApp(
        __name__,
        middlewares=middlewares,
        resolver=Resolver(function_resolver=handlers.__getitem__),
        pythonic_params=True,
        validator_map={"parameter": ParameterValidation(schemas), "body": MediaTypeDict({"*/*json": BodyValidation(schemas)})},
        security_map=security_map(backend),
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
        lifespan=webhooks.lifespan,
    )
    app.add_api(calendar_doc, name="calendar")
    app.add_api(control_doc, name="control")
    errors.install(app)
    app.backend = backend
    app.webhooks = webhooks
    app.contract_violations = violations
    return app
