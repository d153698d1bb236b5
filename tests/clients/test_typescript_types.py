"""The TypeScript types openapi-typescript generates from dist/openapi.json, checked by `tsc --noEmit
--strict` (pinned typescript) through sdk/typescript/usage.ts — and shown to bite."""
from __future__ import annotations

import re

import pytest

from tools import sdk


def test_usage_ts_type_checks_strictly_against_the_generated_types(typescript_types, tmp_path):
    sdk.typecheck(typescript_types, tmp_path)


def test_generated_types_name_every_operation_webhook_and_component(typescript_types):
    import json

    contract = json.loads(sdk.BUNDLE.read_text(encoding="utf-8"))
    text = typescript_types.read_text(encoding="utf-8")
    operation_ids = [op["operationId"] for item in contract["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op]
    for operation_id in operation_ids:
        assert re.search(rf"^    {operation_id}: {{", text, re.MULTILINE), operation_id
    for event in contract["webhooks"]:
        assert f'"{event}": {{' in text, event
    for name in contract["components"]["schemas"]:
        assert re.search(rf"^        {name}: ", text, re.MULTILINE), name


# Each mutation breaks the contract in a way the strict check must catch, with tsc's error code.
MUTATIONS = {
    # A webhook handler that forgets an event type no longer compiles (exhaustive switch on `never`).
    "forgotten_event_type": (lambda ts: ts.replace('    case "booking.no_show":\n', '    case "booking.expired" as never:\n'), "TS2322"),
    # A misspelled response field.
    "misspelled_field": (lambda ts: ts.replace("page.next_cursor;", "page.nextCursor;"), "TS2551"),
    # A path that is not in the contract.
    "unknown_path": (lambda ts: ts.replace('paths["/v1/bookings"]', 'paths["/v1/booking"]'), "TS2339"),
}


def test_the_strict_check_rejects_code_that_breaks_the_contract(typescript_types, tmp_path):
    source = sdk.USAGE_TS.read_text(encoding="utf-8")
    copies = []
    for name, (mutate, _) in MUTATIONS.items():
        broken = mutate(source)
        assert broken != source, name
        copies.append(tmp_path / f"{name}.ts")
        copies[-1].write_text(broken, encoding="utf-8")
    with pytest.raises(sdk.SdkError) as failure:
        sdk.typecheck(typescript_types, tmp_path / "check", sources=copies)  # one tsc run for all of them
    errors = {name: re.findall(rf"{name}\.ts\(\d+,\d+\): error (TS\d+)", str(failure.value)) for name in MUTATIONS}
    # The first error of each file is the one its mutation causes (an unknown path also makes what
    # depends on it `any`, which a later @ts-expect-error then reports as unused).
    assert {name: found[:1] for name, found in errors.items()} == {name: [code] for name, (_, code) in MUTATIONS.items()}, str(failure.value)


def test_untyped_stand_ins_fail_the_check(typescript_types, tmp_path):
    """Were the generated types `any`, the usage file's @ts-expect-error lines would be unused: an error."""
    loose = tmp_path / "loose.d.ts"
    loose.write_text("export type paths = any;\nexport type webhooks = any;\nexport type components = any;\nexport type operations = any;\n")
    with pytest.raises(sdk.SdkError, match="TS2578"):  # Unused '@ts-expect-error' directive
        sdk.typecheck(loose, tmp_path / "check")
