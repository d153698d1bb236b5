"""Request validation plugged into Connexion's `validator_map`: cached validators, precise 400s.

Connexion builds a fresh JSON Schema validator for every parameter and body of every request, and
reports failures as problem+json without saying which field was wrong. These replacements compile
each schema once per app (Draft 2020-12, the dialect of OpenAPI 3.1), name the offending field in
`param`, and parse bodies strictly: UTF-8 only, orjson (which also bounds nesting depth), so that
malformed, non-UTF-8 or absurdly nested bodies are clean 400s instead of 500s.
"""

from __future__ import annotations

import collections
from typing import Any

import orjson
from connexion.lifecycle import ConnexionRequest
from jsonschema.exceptions import ValidationError, best_match
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from ..domain.errors import InvalidRequest
from .dialect import FORMAT_CHECKER, ContractValidator
from .schema_check import Check, compile_check
from .state import state_of


class SchemaCache:
    """One compiled validator per schema object of the loaded document (they live as long as the app),
    and its compiled check (api/schema_check.py), which lets valid instances through without jsonschema."""

    def __init__(self) -> None:
        self._validators: dict[int, tuple[dict, ContractValidator, Check | None]] = {}

    def _entry(self, schema: dict) -> tuple[dict, ContractValidator, Check | None]:
        cached = self._validators.get(id(schema))
        if cached is None or cached[0] is not schema:
            format_checker = FORMAT_CHECKER
            validator = ContractValidator(schema, format_checker=format_checker)
            cached = (schema, validator, compile_check(schema, format_checker))
            self._validators[id(schema)] = cached
        return cached

    def validator(self, schema: dict) -> ContractValidator:
        return self._entry(schema)[1]

    def first_error(self, schema: dict, instance: Any) -> ValidationError | None:
        _, validator, check = self._entry(schema)
        if check is not None and check(instance):
            return None
        return best_match(validator.iter_errors(instance))


def error_param(error: ValidationError, prefix: str = "") -> str | None:
    """The dotted path of the field at fault (`booked_by.member_id`), naming the property itself for
    `required` and `additionalProperties` failures, whose path stops at the enclosing object."""
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        parts += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        parts += extra[:1]
    path = ".".join(parts)
    if prefix:
        return f"{prefix}.{path}" if path else prefix
    return path or None


def _describe(error: ValidationError, param: str | None) -> str:
    if error.validator == "additionalProperties":
        return f"Unknown field {param}." if param else "Unknown field."
    if error.validator == "required":
        return f"{param} is required."
    return f"{param}: {error.message}." if param else f"{error.message}."


class ParameterValidation:
    """Stands in for connexion's ParameterValidator class in `validator_map["parameter"]`."""

    def __init__(self, cache: SchemaCache) -> None:
        self._cache = cache

    def __call__(self, parameters: list[dict], uri_parser, strict_validation: bool = False, security_query_params=None):
        return _ParameterValidator(self._cache, parameters, uri_parser)


class _ParameterValidator:
    def __init__(self, cache: SchemaCache, parameters: list[dict], uri_parser) -> None:
        self._cache = cache
        self._uri_parser = uri_parser
        self._by_location: dict[str, list[dict]] = collections.defaultdict(list)
        for parameter in parameters:
            self._by_location[parameter["in"]].append(parameter)

    def validate(self, scope: Scope) -> None:
        request = ConnexionRequest(scope, uri_parser=self._uri_parser)
        self.check(request.query_params if self._by_location.get("query") else {}, request.path_params, scope)

    def check(self, query: dict, path: dict, scope: Scope) -> None:
        """Validate parameters already parsed (and coerced) by this operation's URI parser."""
        sources = {"query": query, "path": path}
        if self._by_location.get("header"):
            sources["header"] = Headers(scope=scope)
        for location in ("path", "query", "header"):
            for parameter in self._by_location.get(location, ()):
                name = parameter["name"]
                value = sources[location].get(name)
                if value is None:
                    if parameter.get("required"):
                        raise InvalidRequest(f"Missing {location} parameter {name}.", param=name)
                    continue
                error = self._cache.first_error(parameter.get("schema", {}), value)
                if error is not None:
                    raise InvalidRequest(f"Invalid {location} parameter {name}: {error.message}.", param=name)


class BodyValidation:
    """Stands in for the JSON body validator class in `validator_map["body"]`."""

    def __init__(self, cache: SchemaCache) -> None:
        self._cache = cache

    def __call__(self, *, schema: dict, required: bool = False, **_ignored):
        return _BodyValidator(self._cache, schema, required)


class _BodyValidator:
    def __init__(self, cache: SchemaCache, schema: dict, required: bool) -> None:
        self._cache = cache
        self._schema = schema
        self._required = required

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        messages, chunks = [], []
        more_body = True
        while more_body:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # client went away; let the app see the disconnect
            chunks.append(message.get("body", b""))
            more_body = message.get("more_body", False)
        raw = b"".join(chunks)

        state = state_of(scope)
        state.has_body = bool(raw)
        state.body = self.parse(raw) if raw else None
        if state.body is None and not raw and self._required:
            raise InvalidRequest("A JSON request body is required.")

        replay = iter(messages)

        async def replaying_receive():
            return next(replay, None) or await receive()

        return replaying_receive, scope

    def parse(self, raw: bytes) -> Any:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"Request body is not valid UTF-8 (byte {exc.start}); send JSON encoded as UTF-8.") from None
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"Request body is not valid JSON: {exc}.") from None
        error = self._cache.first_error(self._schema, body)
        if error is not None:
            param = error_param(error)
            raise InvalidRequest(_describe(error, param), param=param)
        return body
