"""Compiled schema checks (mock_server/api/schema_check.py) say "valid" exactly when jsonschema does.

Every schema the mock validates requests with — each operation's parameters and JSON body in both
served documents, resolved as Connexion resolves them, and every subschema inside them — is checked
on the documents' own examples, on single-field mutations of them and on arbitrary JSON values.
"""

from __future__ import annotations

import copy
import re
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from connexion.spec import Specification

    from mock_server.app import load_documents
from mock_server.api.dialect import ContractValidator
from mock_server.api.schema_check import compile_check
from mock_server.openapi31 import allow_openapi_31

FORMATS = Draft202012Validator.FORMAT_CHECKER


def _walk(node, found: list) -> None:
    """Every (sub)schema below a schema object."""
    if isinstance(node, bool):
        found.append(node)
        return
    if not isinstance(node, dict):
        return
    found.append(node)
    for key in ("items", "additionalProperties"):
        if key in node:
            _walk(node[key], found)
    for sub in node.get("properties", {}).values():
        _walk(sub, found)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key, []):
            _walk(sub, found)


def _examples(node, found: list) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "example":
                found.append(value)
            elif key == "examples" and isinstance(value, list):
                found.extend(value)
            elif key == "examples" and isinstance(value, dict):
                found.extend(v["value"] for v in value.values() if isinstance(v, dict) and "value" in v)
            else:
                _examples(value, found)
    elif isinstance(node, list):
        for value in node:
            _examples(value, found)


def _request_schemas() -> tuple[list, list, list]:
    """(top-level request schemas, all their subschemas, example instances) of both served documents."""
    allow_openapi_31()
    tops, examples = [], []
    for document in load_documents():
        spec = Specification.load(copy.deepcopy(document))
        for item in spec["paths"].values():
            for method, operation in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
                    tops.append(parameter.get("schema", {}))
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    tops.append(media.get("schema", {}))
                _examples(operation, examples)
    subschemas: list = []
    for schema in tops:
        _walk(schema, subschemas)
    return tops, subschemas, examples


TOPS, SUBSCHEMAS, EXAMPLES = _request_schemas()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["2026-05-23T14:00:00Z", "2026-13-40T25:00:00Z", "rm_studio", "mem_alice", "bk_x",
                                              "confirmed", "full", "partial", "", " ", "a" * 70, 1.0, 2.5, 0, 200, 201]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=10,
)


def _mutate(value, data):
    """Replace one leaf (or drop or add one key) somewhere inside `value`."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["replace", "drop", "add", "recurse"]))
        changed = dict(value)
        if action == "drop":
            del changed[key]
        elif action == "add":
            changed[data.draw(st.text(max_size=8))] = data.draw(json_values)
        elif action == "recurse":
            changed[key] = _mutate(value[key], data)
        else:
            changed[key] = data.draw(json_values)
        return changed
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], _mutate(value[index], data), *value[index + 1:]]
    return data.draw(json_values) if data.draw(st.booleans()) else value


def _agrees(schema, instance) -> None:
    check = compile_check(schema, FORMATS)
    if check is None:
        return
    expected = ContractValidator(schema, format_checker=FORMATS).is_valid(instance)
    assert check(instance) == expected, f"compiled check disagrees with jsonschema on {instance!r} for {schema!r}"


def test_every_request_schema_of_the_calendar_api_compiles():
    assert len(TOPS) > 20 and EXAMPLES
    refused = [schema for schema in TOPS if compile_check(schema, FORMATS) is None]
    assert refused == [], "a request schema fell back to jsonschema on every request; teach schema_check its keyword"


@pytest.mark.parametrize("schema", [{"type": "string", "const": "x"}, {"not": {"type": "string"}}, {"patternProperties": {"a": {}}},
                                    {"$ref": "#/x"}, {"enum": [1, 2]}, {"type": "whatever"}, {"prefixItems": [{}]},
                                    {"properties": {"a": {"if": {}}}}])
def test_schema_check_refuses_any_keyword_it_does_not_reproduce(schema):
    assert compile_check(schema, FORMATS) is None


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_schema_check_agrees_with_jsonschema_on_examples_and_their_mutations(data):
    schema = data.draw(st.sampled_from(SUBSCHEMAS))
    instance = data.draw(st.sampled_from(EXAMPLES) | json_values)
    _agrees(schema, instance)
    _agrees(schema, _mutate(instance, data))


@pytest.mark.parametrize("instance", [1, 1.0, 2.5, True, False, None, "50", 0, -1, 200, 201, 2**63, "", "x" * 600, [], {}])
def test_schema_check_agrees_on_edge_values_for_every_schema(instance):
    for schema in SUBSCHEMAS:
        _agrees(schema, instance)


def _leaf_strings(node, found: set) -> set:
    if isinstance(node, str):
        found.add(node)
    elif isinstance(node, dict):
        for value in node.values():
            _leaf_strings(value, found)
    elif isinstance(node, list):
        for value in node:
            _leaf_strings(value, found)
    return found


STRINGS = sorted(text for text in _leaf_strings(EXAMPLES, set()) | {"rm_studio", "bk_x", "mem_alice", "co_acme", "a", "x-1"}
                 if 0 < len(text) < 100)


def _boundaries(schema: dict) -> list:
    """Instances right at, below and above each limit of a schema."""
    values: list = []

    def around(*keys):
        for key in keys:
            limit = schema.get(key)
            if isinstance(limit, int | float) and not isinstance(limit, bool):
                yield from (n for n in (limit - 1, limit, limit + 1) if n >= 0 or key in ("minimum", "maximum"))

    for n in around("minimum", "maximum"):
        values += [n, float(n), n + 0.5, n - 0.5]
    for n in around("minLength", "maxLength"):
        n = int(n)
        values += [(text * (n // len(text) + 1))[:n] for text in STRINGS]
        values += [text + text[-1] * (n - len(text)) for text in STRINGS if len(text) < n]
    for n in around("minItems", "maxItems"):
        item = schema.get("items", {})
        values += [[1] * n, [(item.get("enum") or ["x"])[0] if isinstance(item, dict) else "x"] * n]
    for n in around("minProperties", "maxProperties"):
        values.append({f"k{i}": i for i in range(n)})
        values.append(dict(list({"notes": "x", "attendees": 2, "room_id": "rm_studio", "reason": "r"}.items())[:n]))
    return values


def test_schema_check_agrees_at_every_limit_of_every_schema():
    for schema in SUBSCHEMAS:
        if isinstance(schema, dict):
            for instance in _boundaries(schema):
                _agrees(schema, instance)


def test_schema_check_patterns_use_search_like_jsonschema():
    schema = {"type": "string", "pattern": "b"}
    check = compile_check(schema, FORMATS)
    assert check("abc") and not check("xyz")
    assert re.search("b", "abc")  # not fullmatch: "abc" is valid in jsonschema too
    _agrees(schema, "abc")


SMALL_SCHEMAS = [
    {"enum": ["a", None]}, {"enum": ["a"]}, {"type": ["string", "null"], "enum": ["a", None]}, {"type": "integer"},
    {"type": "number", "minimum": 0, "maximum": 1}, {"type": "boolean"}, {"type": "array", "items": {"type": "integer"}, "minItems": 1},
    {"type": "object", "additionalProperties": {"type": "string"}}, {"additionalProperties": False, "properties": {"a": True}},
    {"allOf": [{"minLength": 1}, {"maxLength": 2}]}, {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]}, {"oneOf": [{"minLength": 1}, {"maxLength": 3}]}, True, False,
    {"format": "date-time"}, {"type": "string", "format": "date-time"}, {"required": ["a"], "minProperties": 2, "maxProperties": 2},
    {"description": "annotations only", "examples": [1], "default": 2, "title": "t", "deprecated": True, "x-extension": 1},
]
SMALL_INSTANCES = [None, True, False, 0, 1, 1.0, 1.5, -1, "", "a", "ab", "abc", [], [1], [1.0], ["a"], {}, {"a": "x"}, {"a": 1},
                   {"a": "x", "b": "y"}, {"b": 1}, "2026-05-23T14:00:00Z", "2026-05-23 14:00:00", "2026-05-23t14:00:00z"]


@pytest.mark.parametrize("schema", SMALL_SCHEMAS)
def test_schema_check_agrees_with_jsonschema_keyword_by_keyword(schema):
    assert compile_check(schema, FORMATS) is not None
    for instance in SMALL_INSTANCES:
        _agrees(schema, instance)
