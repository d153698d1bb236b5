"""Compiled JSON Schema checks: a quick "valid" for the common case, jsonschema for everything else.

jsonschema walks a schema keyword by keyword for every instance, building a child validator at
each level (`evolve`, `descend`); for a booking body that is ~30 % of a create. `compile_check`
turns a schema into nested closures that answer the same yes/no question with plain Python. It
compiles only keywords whose meaning it reproduces exactly (same type checker, same format
checker, same ECMA-262 pattern search from api/dialect.py, `len`, comparisons and enum equality as
the dialect's Draft 2020-12 keywords) and refuses — returns None — any schema that contains another keyword jsonschema would
evaluate, so an unsupported keyword can never be skipped. Callers use the closure only to accept:
when it says "invalid", jsonschema runs and produces the error, so messages are unchanged.
tests/unit/test_schema_check.py compares both on every schema of the served documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator

from .dialect import python_pattern

Check = Callable[[Any], bool]

_TYPES = Draft202012Validator.TYPE_CHECKER
_EVALUATED = frozenset(Draft202012Validator.VALIDATORS)  # every keyword Draft 2020-12 validates
_COMPILED = frozenset({
    "type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format",
    "properties", "required", "additionalProperties", "minProperties", "maxProperties", "items", "minItems", "maxItems", "allOf", "anyOf", "oneOf",
})
_PLAIN_TYPES: dict[str, Check] = {
    "string": lambda x: isinstance(x, str),
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "null": lambda x: x is None,
    "boolean": lambda x: isinstance(x, bool),
}


class _Unsupported(Exception):
    pass


def compile_check(schema: Any, format_checker) -> Check | None:
    """A function telling whether an instance is valid against `schema`, or None if not compilable."""
    try:
        return _compile(schema, format_checker)
    except _Unsupported:
        return None


def _always(_instance: Any) -> bool:
    return True


def _never(_instance: Any) -> bool:
    return False


def _type_check(name: str) -> Check:
    if name in _PLAIN_TYPES:
        return _PLAIN_TYPES[name]
    if name in ("integer", "number"):
        return lambda x: _TYPES.is_type(x, name)
    raise _Unsupported(f"type {name!r}")


def _compile(schema: Any, fmt) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise _Unsupported("schema is not an object")
    unsupported = (set(schema) & _EVALUATED) - _COMPILED
    if unsupported:
        raise _Unsupported(", ".join(sorted(unsupported)))
    checks: list[Check] = []

    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        type_checks = [_type_check(n) for n in names]
        checks.append(type_checks[0] if len(type_checks) == 1 else (lambda x, ts=tuple(type_checks): any(t(x) for t in ts)))

    if "enum" in schema:
        members = schema["enum"]
        if not isinstance(members, list) or not all(m is None or isinstance(m, str) for m in members):
            raise _Unsupported("enum of other than strings and null")
        strings, allow_null = frozenset(m for m in members if m is not None), None in members
        checks.append(lambda x: (isinstance(x, str) and x in strings) or (allow_null and x is None))

    # String keywords apply to strings only, as in jsonschema.
    if "pattern" in schema:
        search = python_pattern(schema["pattern"]).search
        checks.append(lambda x: not isinstance(x, str) or search(x) is not None)
    if "minLength" in schema:
        low = schema["minLength"]
        checks.append(lambda x: not isinstance(x, str) or len(x) >= low)
    if "maxLength" in schema:
        high = schema["maxLength"]
        checks.append(lambda x: not isinstance(x, str) or len(x) <= high)
    if "format" in schema and fmt is not None:
        name, conforms = schema["format"], fmt.conforms
        checks.append(lambda x: conforms(x, name))

    # Numeric keywords apply to numbers only.
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda x: not _TYPES.is_type(x, "number") or not x < low)
    if "maximum" in schema:
        high = schema["maximum"]
        checks.append(lambda x: not _TYPES.is_type(x, "number") or not x > high)

    # Object keywords apply to objects only.
    if "properties" in schema:
        properties = tuple((name, _compile(sub, fmt)) for name, sub in schema["properties"].items())

        def properties_check(x):
            if isinstance(x, dict):
                for name, check in properties:
                    if name in x and not check(x[name]):
                        return False
            return True

        checks.append(properties_check)
    if "required" in schema:
        required = frozenset(schema["required"])
        checks.append(lambda x: not isinstance(x, dict) or required.issubset(x))
    if "additionalProperties" in schema:
        known = frozenset(schema.get("properties", {}))
        extra = _compile(schema["additionalProperties"], fmt)
        if extra is _never:
            checks.append(lambda x: not isinstance(x, dict) or known.issuperset(x))
        elif extra is not _always:
            checks.append(lambda x: not isinstance(x, dict) or all(k in known or extra(v) for k, v in x.items()))

    if "minProperties" in schema:
        low = schema["minProperties"]
        checks.append(lambda x: not isinstance(x, dict) or len(x) >= low)
    if "maxProperties" in schema:
        high = schema["maxProperties"]
        checks.append(lambda x: not isinstance(x, dict) or len(x) <= high)

    # Array keywords apply to arrays only.
    if "items" in schema:
        item = _compile(schema["items"], fmt)
        checks.append(lambda x: not isinstance(x, list) or all(item(v) for v in x))
    if "minItems" in schema:
        low = schema["minItems"]
        checks.append(lambda x: not isinstance(x, list) or len(x) >= low)
    if "maxItems" in schema:
        high = schema["maxItems"]
        checks.append(lambda x: not isinstance(x, list) or len(x) <= high)

    # Combinators.
    if "allOf" in schema:
        parts = tuple(_compile(s, fmt) for s in schema["allOf"])
        checks.append(lambda x: all(p(x) for p in parts))
    if "anyOf" in schema:
        parts = tuple(_compile(s, fmt) for s in schema["anyOf"])
        checks.append(lambda x: any(p(x) for p in parts))
    if "oneOf" in schema:
        parts = tuple(_compile(s, fmt) for s in schema["oneOf"])
        checks.append(lambda x: sum(1 for p in parts if p(x)) == 1)

    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    all_checks = tuple(checks)

    def check_all(x):
        for check in all_checks:
            if not check(x):
                return False
        return True

    return check_all
