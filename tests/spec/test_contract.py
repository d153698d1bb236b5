"""The OpenAPI contract is valid, complete against the docs page, and consistent with itself."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tools import spec

HTTP_METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
DOCS_ERROR_CODES = {
    "auth_invalid": 401,
    "auth_scope_insufficient": 403,
    "booking_not_found": 404,
    "slot_unavailable": 409,
    "slot_misaligned": 422,
    "idempotency_conflict": 409,
    "rate_limited": 429,
    "stripe_unconfigured": 412,
    "internal_error": 500,
}
# Codes DESIGN.md adds where no docs code fits, with their statuses.
ADDED_ERROR_CODES = {
    "invalid_request": 400,
    "room_not_found": 404,
    "not_found": 404,
    "method_not_allowed": 405,
    "unsupported_media_type": 415,
    "payload_too_large": 413,
    "booking_not_editable": 409,
    "booking_not_cancellable": 409,
    "idempotency_in_progress": 409,
}
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit")
WEBHOOK_EVENTS = {
    "booking.created", "booking.confirmed", "booking.updated", "booking.cancelled",
    "booking.expired", "booking.completed", "booking.no_show",
}


def resolve(document: dict, node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = {**_pointer(document, node["$ref"]), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _pointer(document: dict, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def operations(document: dict) -> Iterator[tuple[str, str, dict, dict]]:
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method], item


def media_examples(document: dict) -> Iterator[tuple[str, dict, Any]]:
    """Every (where, schema, example value) pair the document states."""
    def from_media(where: str, media: dict) -> Iterator[tuple[str, dict, Any]]:
        media = resolve(document, media)
        schema = media.get("schema")
        if schema is None:
            return
        if "example" in media:
            yield where, schema, media["example"]
        for name, example in (media.get("examples") or {}).items():
            yield f"{where} example {name}", schema, resolve(document, example)["value"]

    def from_operation(where: str, operation: dict, path_item: dict) -> Iterator[tuple[str, dict, Any]]:
        for parameter in path_item.get("parameters", []) + operation.get("parameters", []):
            parameter = resolve(document, parameter)
            if "example" in parameter:
                yield f"{where} parameter {parameter['name']}", parameter["schema"], parameter["example"]
        body = resolve(document, operation.get("requestBody", {}))
        for media_type, media in (body.get("content") or {}).items():
            yield from from_media(f"{where} request {media_type}", media)
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            for media_type, media in (response.get("content") or {}).items():
                yield from from_media(f"{where} {status} {media_type}", media)

    for path, method, operation, item in operations(document):
        yield from from_operation(f"{method.upper()} {path}", operation, item)
    for event, item in document["webhooks"].items():
        yield from from_operation(f"webhook {event}", item["post"], item)
    for name, schema in document["components"]["schemas"].items():
        for index, value in enumerate(schema.get("examples", [])):
            yield f"schema {name} examples[{index}]", schema, value


def schema_nodes(document: dict) -> Iterator[tuple[str, dict]]:
    """Every schema object in the document (components, parameters, bodies, headers)."""
    def walk(where: str, node: Any, in_schema: bool) -> Iterator[tuple[str, dict]]:
        if isinstance(node, dict):
            if in_schema:
                yield where, node
            for key, value in node.items():
                if in_schema and key in ("properties", "patternProperties", "mapping"):
                    for name, sub in (value or {}).items():
                        yield from walk(f"{where}.{key}.{name}", sub, key != "mapping")
                elif in_schema and key in ("examples", "example", "default", "enum", "discriminator"):
                    continue
                else:
                    yield from walk(f"{where}.{key}", value, in_schema or key == "schema")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                yield from walk(f"{where}[{index}]", item, in_schema)

    yield from walk("components.schemas", document["components"]["schemas"], False)
    for name, schema in document["components"]["schemas"].items():
        yield from walk(f"components.schemas.{name}", schema, True)
    yield from walk("paths", document["paths"], False)
    yield from walk("webhooks", document["webhooks"], False)
    yield from walk("components.parameters", document["components"]["parameters"], False)
    yield from walk("components.headers", document["components"]["headers"], False)
    yield from walk("components.responses", document["components"]["responses"], False)


def test_split_contract_and_control_document_pass_both_validators():
    problems = spec.validation_errors(spec.SPEC_ROOT)
    if spec.CONTROL_SPEC.exists():
        problems += spec.validation_errors(spec.CONTROL_SPEC)
    assert problems == []


def test_every_component_file_is_listed_in_the_root_document():
    assert spec.unlisted_components() == []


def test_committed_bundle_is_the_bundle_of_the_split_files(contract):
    committed_json = (spec.DIST / "openapi.json").read_text(encoding="utf-8")
    committed_yaml = (spec.DIST / "openapi.yaml").read_text(encoding="utf-8")
    assert committed_json == spec.dump_json(contract), "dist/openapi.json is stale: run `make bundle`"
    assert yaml.safe_load(committed_yaml) == contract, "dist/openapi.yaml is stale: run `make bundle`"


def test_bundle_has_only_internal_references(contract):
    refs = re.findall(r'"\$ref": "([^"]+)"', spec.dump_json(contract))
    assert refs and all(ref.startswith("#/components/") for ref in refs)


def test_document_is_openapi_3_1_with_the_docs_base_url(contract):
    assert contract["openapi"] == "3.1.0"
    assert [server["url"] for server in contract["servers"]] == ["https://api.litehq.com"]
    assert all(path.startswith("/v1/") for path in contract["paths"])


def test_every_docs_endpoint_and_the_rooms_endpoints_have_their_operation_ids(contract):
    found = {(method, path): op["operationId"] for path, method, op, _ in operations(contract)}
    assert found == {
        ("get", "/v1/bookings"): "listBookings",
        ("post", "/v1/bookings"): "createBooking",
        ("get", "/v1/bookings/{id}"): "getBooking",
        ("patch", "/v1/bookings/{id}"): "updateBooking",
        ("post", "/v1/bookings/{id}/cancel"): "cancelBooking",
        ("get", "/v1/availability"): "getAvailability",
        ("get", "/v1/calendar.ics"): "getCalendarFeed",
        ("get", "/v1/rooms"): "listRooms",
        ("get", "/v1/rooms/{id}"): "getRoom",
    }


def test_operation_ids_are_unique_across_operations_and_webhooks(contract):
    ids = [op["operationId"] for _, _, op, _ in operations(contract)]
    ids += [item["post"]["operationId"] for item in contract["webhooks"].values()]
    assert len(ids) == len(set(ids))


def test_every_operation_has_tag_summary_description_and_a_success_example(contract):
    for path, method, op, _ in operations(contract):
        assert op.get("tags") and op.get("summary") and op.get("description"), f"{method} {path}"
        success = [resolve(contract, r) for s, r in op["responses"].items() if s.startswith("2")]
        assert len(success) == 1, f"{method} {path}"
        media = next(iter(success[0]["content"].values()))
        assert media.get("examples") or media.get("example"), f"{method} {path} has no success example"


def test_list_bookings_has_every_docs_query_parameter_with_its_bounds(contract):
    op = contract["paths"]["/v1/bookings"]["get"]
    params = {p["name"]: p for p in (resolve(contract, p) for p in op["parameters"])}
    assert set(params) == {"from", "to", "status", "room_id", "member_id", "company_id", "limit", "cursor"}
    assert params["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
    status = resolve(contract, params["status"]["schema"])
    assert status["enum"] == ["pending_payment", "confirmed", "cancelled", "completed", "expired"]
    for name in ("from", "to"):
        assert params[name]["schema"]["format"] == "date-time"


def test_availability_and_feed_take_their_documented_parameters(contract):
    availability = contract["paths"]["/v1/availability"]["get"]
    assert {resolve(contract, p)["name"] for p in availability["parameters"]} >= {"room_id", "tier", "from", "to"}
    feed = contract["paths"]["/v1/calendar.ics"]["get"]
    assert [resolve(contract, p)["name"] for p in feed["parameters"]] == ["token"]
    assert list(feed["responses"]["200"]["content"]) == ["text/calendar"]
    schemes = {name for requirement in feed["security"] for name in requirement}
    assert schemes == {"bearerAuth", "feedToken"}


def test_every_operation_names_its_scope(contract):
    for path, method, op, _ in operations(contract):
        expected = "calendar:read" if method == "get" else "calendar:write"
        requirements = op.get("security", contract["security"])
        assert requirements and all(list(r.values()) == [[expected]] for r in requirements), f"{method} {path}"


@pytest.mark.parametrize("status", ["401", "429", "500"])
def test_every_operation_documents_status_with_the_envelope_and_rate_limit_headers(contract, status):
    error_schema = {"$ref": "#/components/schemas/Error"}
    for path, method, op, _ in operations(contract):
        response = resolve(contract, op["responses"].get(status))
        assert response, f"{method} {path} lacks {status}"
        assert response["content"]["application/json"]["schema"] == error_schema, f"{method} {path} {status}"
        assert set(RATE_LIMIT_HEADERS) | {"X-Request-Id"} <= set(response["headers"]), f"{method} {path} {status}"
        extra = {"401": "WWW-Authenticate", "429": "Retry-After"}.get(status)
        assert extra is None or extra in response["headers"], f"{method} {path} {status} lacks {extra}"


def test_every_response_carries_request_id_and_every_success_the_rate_limit_headers(contract):
    for path, method, op, _ in operations(contract):
        for status, response in op["responses"].items():
            headers = resolve(contract, response)["headers"]
            assert "X-Request-Id" in headers, f"{method} {path} {status}"
            if status.startswith("2"):
                for name in RATE_LIMIT_HEADERS:
                    assert resolve(contract, headers[name])["required"] is True, f"{method} {path} {status} {name}"


def test_every_error_response_example_uses_a_code_of_its_status(contract):
    table = {**DOCS_ERROR_CODES, **ADDED_ERROR_CODES}
    for path, method, op, _ in operations(contract):
        for status, response in op["responses"].items():
            if status.startswith("2"):
                continue
            media = resolve(contract, response)["content"]["application/json"]
            assert media["examples"], f"{method} {path} {status} has no example"
            for name, example in media["examples"].items():
                code = resolve(contract, example)["value"]["error"]["code"]
                assert table[code] == int(status), f"{method} {path} {status} example {name} uses {code}"


def test_error_code_enum_is_exactly_the_docs_codes_plus_the_designed_ones(contract):
    enum = contract["components"]["schemas"]["ErrorCode"]["enum"]
    assert len(enum) == len(set(enum))
    assert set(enum) == set(DOCS_ERROR_CODES) | set(ADDED_ERROR_CODES)
    # A named component (not an inline object), so SDK generators call it ErrorDetail.
    assert contract["components"]["schemas"]["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorDetail"}
    error = contract["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "request_id"}
    assert {"param", "retry_after_ms"} <= set(error["properties"])


def test_every_docs_error_code_is_documented_on_an_operation_with_its_status(contract):
    seen: dict[str, set[int]] = {}
    for _, _, op, _ in operations(contract):
        for status, response in op["responses"].items():
            for example in (resolve(contract, response).get("content", {}).get("application/json", {}).get("examples") or {}).values():
                seen.setdefault(resolve(contract, example)["value"].get("error", {}).get("code"), set()).add(int(status))
    for code, status in DOCS_ERROR_CODES.items():
        assert seen.get(code) == {status}, code


def test_mutations_take_an_optional_idempotency_key_header_and_create_explains_the_body_alternative(contract):
    for path, method, op, item in operations(contract):
        if method in ("post", "patch"):
            params = [resolve(contract, p) for p in item.get("parameters", []) + op.get("parameters", [])]
            keys = [p for p in params if p["name"] == "Idempotency-Key" and p["in"] == "header"]
            assert len(keys) == 1 and keys[0]["required"] is False, f"{method} {path}"
    create = contract["paths"]["/v1/bookings"]["post"]
    assert "idempotency_key" in contract["components"]["schemas"]["BookingCreate"]["properties"]
    assert "required" in create["description"] and "idempotency_key" in create["description"]


def test_create_success_carries_location_and_replay_headers(contract):
    headers = contract["paths"]["/v1/bookings"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Idempotent-Replayed"} <= set(headers)


def test_create_links_to_get_update_and_cancel_by_the_created_id(contract):
    links = contract["paths"]["/v1/bookings"]["post"]["responses"]["201"]["links"]
    assert {name: (link["operationId"], link["parameters"]) for name, link in links.items()} == {
        name: (name, {"id": "$response.body#/id"}) for name in ("getBooking", "updateBooking", "cancelBooking")
    }


def test_booking_schema_has_every_designed_field(contract):
    booking = contract["components"]["schemas"]["Booking"]
    assert set(booking["required"]) == set(booking["properties"]) == {
        "id", "status", "room", "start_at", "end_at", "booked_by", "attendees", "notes", "price",
        "checkout_url", "expires_at", "cancellation", "charges", "refunds", "no_show_at",
        "created_at", "updated_at",
    }
    assert [s["$ref"] for s in contract["components"]["schemas"]["BookedByInput"]["oneOf"]] == [
        "#/components/schemas/MemberBookerInput", "#/components/schemas/GuestBookerInput",
    ]


def test_ids_carry_their_type_prefix(contract):
    schemas = contract["components"]["schemas"]
    for name, prefix in {"BookingId": "bk_", "RoomId": "rm_", "MemberId": "mem_", "CompanyId": "co_",
                         "EventId": "evt_", "RequestId": "req_"}.items():
        assert schemas[name]["pattern"] == f"^{prefix}[A-Za-z0-9]+$"


def test_all_seven_webhook_events_are_described_with_signature_and_payload(contract):
    assert set(contract["webhooks"]) == WEBHOOK_EVENTS
    for event, item in contract["webhooks"].items():
        op = item["post"]
        names = {resolve(contract, p)["name"] for p in op["parameters"]}
        assert {"LiteHQ-Signature", "LiteHQ-Event-Id", "LiteHQ-Event-Type"} <= names, event
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert schema["allOf"][0] == {"$ref": "#/components/schemas/WebhookEvent"}
        assert schema["allOf"][1]["properties"]["type"]["enum"] == [event]
    signature = contract["components"]["parameters"]["WebhookSignature"]
    assert "HMAC-SHA256" in signature["description"] and "timingSafeEqual" in signature["description"]
    assert set(contract["components"]["schemas"]["WebhookEventType"]["enum"]) == WEBHOOK_EVENTS


def test_every_example_validates_against_its_schema_as_json_schema_2020_12(contract):
    resource = Resource.from_contents(contract, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:litehq:contract", resource)
    checked = 0
    for where, schema, value in media_examples(contract):
        rebased = _rebase_refs(schema)
        validator = jsonschema.Draft202012Validator(
            rebased, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = [e.message for e in validator.iter_errors(value)]
        assert errors == [], f"{where}: {errors[:3]}"
        checked += 1
    assert checked > 40


def _rebase_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("urn:litehq:contract" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase_refs(item) for item in node]
    return node


def test_a_wrong_example_is_caught_by_the_example_check(contract):
    # Guards the check above against passing vacuously (e.g. refs that never resolve).
    resource = Resource.from_contents(contract, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:litehq:contract", resource)
    validator = jsonschema.Draft202012Validator(
        _rebase_refs({"$ref": "#/components/schemas/Booking"}), registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )
    good = resolve(contract, contract["components"]["examples"]["BookingPendingPayment"])["value"]
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({**good, "status": "paid"}))
    assert list(validator.iter_errors({**good, "start_at": "tomorrow"}))
    assert list(validator.iter_errors({**good, "room": {"id": "room-1", "name": "x"}}))


FORBIDDEN_KEYWORDS = {
    "const", "prefixItems", "$defs", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems",
    "dependentSchemas", "dependentRequired", "contains", "minContains", "maxContains", "$dynamicRef",
    "$anchor", "propertyNames",
}


def test_schemas_stay_in_the_subset_draft_4_and_2020_12_read_alike(contract):
    offences = []
    for where, node in schema_nodes(contract):
        for keyword in FORBIDDEN_KEYWORDS & set(node):
            offences.append(f"{where}: {keyword}")
        for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
            if keyword in node:
                offences.append(f"{where}: {keyword} (numeric in 2020-12, boolean in Draft 4)")
    for path, method, op, item in operations(contract):
        for parameter in item.get("parameters", []) + op.get("parameters", []):
            schema = resolve(contract, parameter)["schema"]
            if isinstance(resolve(contract, schema).get("type"), list):
                offences.append(f"{method} {path} parameter {resolve(contract, parameter)['name']}: type list")
    assert offences == []


def test_subset_check_catches_a_forbidden_construct(contract):
    tainted = {**contract, "components": {**contract["components"], "schemas": {
        **contract["components"]["schemas"], "Tainted": {"type": "object", "properties": {"x": {"const": 1}}},
    }}}
    assert any(keyword == "const" for _, node in schema_nodes(tainted) for keyword in node)
