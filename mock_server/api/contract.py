"""Checks every response the mock sends against the documents it serves (on in the test suite).

Connexion's own response validation only sees what handlers return, before the error handlers and
the frame have done their part (error envelopes, X-Request-Id, rate-limit headers, 404/405/413).
This check sits outside everything, so nothing the mock sends escapes it: status declared for the
operation, `Content-Type` exactly a declared media type, body valid against its schema, every
required header present and valid. A violation is logged, recorded in `violations`, and replaces
the response with a 500, so a test can never pass on a response the contract does not allow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .dialect import FORMAT_CHECKER, ContractValidator
from .routes import RouteTable

log = logging.getLogger("mock_server.contract")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(slots=True)
class ServedDocument:
    uri: str
    document: dict
    base_path: str


class ContractViolation(AssertionError):
    pass


class Contract:
    """The served documents, with validators compiled once per schema location."""

    def __init__(self, documents: list[ServedDocument]) -> None:
        self.documents = documents
        registry = Registry()
        for served in documents:
            registry = registry.with_resource(served.uri, Resource(contents=served.document, specification=DRAFT202012))
        self._registry = registry
        self._validators: dict[str, ContractValidator] = {}
        self.routes = RouteTable()
        self._owner: dict[str, ServedDocument] = {}
        for served in documents:
            self.routes.add_document(served.document, served.base_path)
            for template in served.document.get("paths", {}):
                self._owner[served.base_path.rstrip("/") + template] = served

    def _validate(self, pointer: str, instance: object) -> None:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = self._validators[pointer] = ContractValidator(
                {"$ref": pointer}, registry=self._registry, format_checker=FORMAT_CHECKER
            )
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(root)"
            raise ContractViolation(f"{where}: {first.message}")

    @staticmethod
    def _follow(document: dict, node: dict, pointer: str) -> tuple[dict, str]:
        while "$ref" in node:
            pointer = node["$ref"]
            node = document
            for part in pointer.lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def check(self, method: str, path: str, status: int, headers: Headers, body: bytes) -> None:
        route = self.routes.match(path)
        operation = route.operations.get("GET" if method == "HEAD" else method) if route else None
        if operation is None:
            # Unknown route or method: the main document's promise is 404 not_found / 405 method_not_allowed.
            served = self.documents[0]
            expected = 404 if route is None else 405
            if status != expected:
                raise ContractViolation(f"{method} {path}: {status} for a request no operation serves (expected {expected})")
            if expected == 405 and "allow" not in headers:
                raise ContractViolation("405 without Allow")
            self._check_json(headers, body, f"{served.uri}#/components/schemas/Error")
            return

        served = self._owner[route.template]
        document, uri = served.document, served.uri
        template = route.template[len(served.base_path.rstrip("/")):]
        op_pointer = f"#/paths/{_escape(template)}/{('GET' if method == 'HEAD' else method).lower()}"
        responses = operation.get("responses", {})
        key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
        if key is None:
            raise ContractViolation(f"{method} {route.template}: status {status} is not declared")
        response, pointer = self._follow(document, responses[key], f"{op_pointer}/responses/{key}")

        for name, header in (response.get("headers") or {}).items():
            header, header_pointer = self._follow(document, header, f"{pointer}/headers/{_escape(name)}")
            value = headers.get(name)
            if value is None:
                if header.get("required"):
                    raise ContractViolation(f"{method} {route.template} {status}: required header {name} missing")
                continue
            schema, schema_pointer = self._follow(document, header.get("schema", {}), f"{header_pointer}/schema")
            typed: object = value
            if schema.get("type") == "integer":
                try:
                    typed = int(value)
                except ValueError:
                    raise ContractViolation(f"header {name}: {value!r} is not an integer") from None
            try:
                self._validate(f"{uri}{schema_pointer}", typed)
            except ContractViolation as exc:
                raise ContractViolation(f"header {name}: {exc}") from None

        content = response.get("content") or {}
        if not content:
            if body and method != "HEAD":
                raise ContractViolation(f"{method} {route.template} {status}: body sent where none is declared")
            return
        content_type = headers.get("content-type")
        if content_type not in content:
            raise ContractViolation(f"{method} {route.template} {status}: Content-Type {content_type!r} is not one of {sorted(content)}")
        if method == "HEAD":
            return
        media_pointer = f"{pointer}/content/{_escape(content_type)}/schema"
        if content_type == "application/json":
            self._check_json(headers, body, f"{uri}{media_pointer}")
        else:
            self._validate(f"{uri}{media_pointer}", body.decode("utf-8"))

    def _check_json(self, headers: Headers, body: bytes, pointer: str) -> None:
        if headers.get("content-type") != "application/json":
            raise ContractViolation(f"Content-Type {headers.get('content-type')!r} where application/json is declared")
        try:
            instance = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ContractViolation(f"body is not JSON: {exc}") from None
        self._validate(pointer, instance)
        error = instance.get("error") if isinstance(instance, dict) else None
        if isinstance(error, dict) and error.get("request_id") != headers.get("x-request-id"):
            raise ContractViolation("error.request_id differs from X-Request-Id")


class ContractCheck:
    """ASGI middleware: buffers each response, checks it, and sends it (or a 500 instead)."""

    def __init__(self, app: ASGIApp, *, contract: Contract, violations: list[str]) -> None:
        self.app = app
        self.contract = contract
        self.violations = violations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._finish(scope, start, b"".join(chunks), send)
                return
            await send(message)

        await self.app(scope, receive, buffered_send)

    async def _finish(self, scope: Scope, start: Message, body: bytes, send: Send) -> None:
        headers = Headers(raw=start["headers"])
        try:
            self.contract.check(scope["method"], scope["path"], start["status"], headers, body)
        except (ContractViolation, KeyError, TypeError, ValueError) as exc:
            message = f"{scope['method']} {scope['path']} → {start['status']}: {exc}"
            log.error("contract violation: %s", message)
            self.violations.append(message)
            request_id = headers.get("x-request-id", "req_unknown")
            body = orjson.dumps({"error": {"code": "internal_error", "message": f"Response broke the contract: {message}", "request_id": request_id}})
            start = {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"application/json"), (b"x-request-id", request_id.encode()), (b"content-length", str(len(body)).encode())],
            }
        await send(start)
        await send({"type": "http.response.body", "body": body})
