"""Bundle, validate and inspect the split OpenAPI contract under openapi/."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC_ROOT = ROOT / "openapi" / "openapi.yaml"
CONTROL_SPEC = ROOT / "openapi" / "mock-control.yaml"
DIST = ROOT / "dist"
COMPONENT_KINDS = ("schemas", "parameters", "headers", "responses", "examples", "links", "requestBodies", "securitySchemes")

# Why a bundler of our own rather than `prance compile`: prance resolves every file reference by
# inlining it (or, with TRANSLATE_EXTERNAL, by filing *everything* under components/schemas with
# names like `Booking.yaml_`). Both lose the component names SDK generators turn into type names.
# The split layout makes the mapping trivial: a file `components/<kind>/<Name>.yaml` is the
# component `#/components/<kind>/<Name>`; every other referenced file (paths, webhooks) is inlined.
# prance still validates the split document and the bundle (see `validate`).


class BundleError(Exception):
    """A reference in the split document that the bundle cannot represent."""


def _component_pointer(path: Path, components_dir: Path) -> str | None:
    try:
        rel = path.relative_to(components_dir)
    except ValueError:
        return None
    if len(rel.parts) != 2 or rel.suffix != ".yaml" or rel.parts[0] not in COMPONENT_KINDS:
        raise BundleError(f"component file outside components/<kind>/<Name>.yaml: {path}")
    return f"#/components/{rel.parts[0]}/{rel.stem}"


def bundle(root_path: Path = SPEC_ROOT) -> dict[str, Any]:
    """Return the split document at root_path as one dict with only internal references."""
    root_path = root_path.resolve()
    components_dir = root_path.parent / "components"
    cache: dict[Path, Any] = {}
    seen_components: dict[str, Path] = {}

    def load(path: Path) -> Any:
        if path not in cache:
            if not path.is_file():
                raise BundleError(f"dangling reference to {path}")
            cache[path] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cache[path]

    def rewrite_ref(ref: str, base: Path, inline_stack: tuple[Path, ...]) -> Any:
        if ref.startswith("#"):
            raise BundleError(f"{base}: local reference {ref} in a split file is ambiguous; reference the component file")
        file_part, _, fragment = ref.partition("#")
        target = (base.parent / file_part).resolve()
        pointer = _component_pointer(target, components_dir)
        if pointer is not None:
            if fragment:
                raise BundleError(f"{base}: reference into a component file ({ref}); reference the whole file")
            seen_components[pointer] = target
            load(target)
            return {"$ref": pointer}
        if fragment:
            raise BundleError(f"{base}: fragment references to non-component files are not supported ({ref})")
        if target in inline_stack:
            raise BundleError(f"circular inline reference through {target}")
        return walk(load(target), target, inline_stack + (target,))

    def walk(node: Any, base: Path, inline_stack: tuple[Path, ...]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and isinstance(node["$ref"], str):
                replaced = rewrite_ref(node["$ref"], base, inline_stack)
                # 3.1 allows siblings (description, default…) beside a $ref; keep them.
                siblings = {k: walk(v, base, inline_stack) for k, v in node.items() if k != "$ref"}
                return {**replaced, **siblings}
            out = {}
            for key, value in node.items():
                if key == "discriminator" and isinstance(value, dict) and "mapping" in value:
                    value = {**value, "mapping": {
                        k: rewrite_ref(v, base, inline_stack)["$ref"] for k, v in value["mapping"].items()
                    }}
                out[key] = walk(value, base, inline_stack)
            return out
        if isinstance(node, list):
            return [walk(item, base, inline_stack) for item in node]
        return node

    document = load(root_path)
    result = {key: walk(value, root_path, ()) for key, value in document.items() if key != "components"}
    components: dict[str, dict[str, Any]] = {}
    for kind, entries in (document.get("components") or {}).items():
        components[kind] = {}
        for name, entry in entries.items():
            if isinstance(entry, dict) and set(entry) == {"$ref"}:
                target = (root_path.parent / entry["$ref"]).resolve()
                if _component_pointer(target, components_dir) != f"#/components/{kind}/{name}":
                    raise BundleError(f"components.{kind}.{name} must reference components/{kind}/{name}.yaml")
                components[kind][name] = walk(load(target), target, (target,))
            else:
                components[kind][name] = walk(entry, root_path, ())
    # Components reached only from other files still need a home in the bundle.
    pending = [p for p in seen_components if _split_pointer(p)[1] not in components.get(_split_pointer(p)[0], {})]
    while pending:
        pointer = pending.pop()
        kind, name = _split_pointer(pointer)
        if name in components.setdefault(kind, {}):
            continue
        target = seen_components[pointer]
        components[kind][name] = walk(load(target), target, (target,))
        pending.extend(p for p in seen_components if _split_pointer(p)[1] not in components.get(_split_pointer(p)[0], {}))
    result["components"] = components
    return result


def _split_pointer(pointer: str) -> tuple[str, str]:
    _, _, kind, name = pointer.split("/")
    return kind, name


def unlisted_components(root_path: Path = SPEC_ROOT) -> list[str]:
    """Component files that the root document does not list under `components`."""
    document = yaml.safe_load(root_path.read_text(encoding="utf-8"))
    listed = {(kind, name) for kind, entries in (document.get("components") or {}).items() for name in entries}
    missing = []
    for path in sorted((root_path.parent / "components").glob("*/*.yaml")):
        if (path.parent.name, path.stem) not in listed:
            missing.append(f"{path.parent.name}/{path.stem}")
    return missing


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def dump_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_bundle() -> list[Path]:
    document = bundle()
    DIST.mkdir(exist_ok=True)
    written = [DIST / "openapi.yaml", DIST / "openapi.json"]
    header = "# Generated by `make bundle` from openapi/openapi.yaml. Do not edit: edit the split files.\n"
    written[0].write_text(header + dump_yaml(document), encoding="utf-8")
    written[1].write_text(dump_json(document), encoding="utf-8")
    return written


def validation_errors(path: Path) -> list[str]:
    """Run openapi-spec-validator and prance over one document; return their complaints."""
    from openapi_spec_validator import validate
    from prance import ResolvingParser

    errors = []
    try:
        document = bundle(path) if path == SPEC_ROOT else yaml.safe_load(path.read_text(encoding="utf-8"))
        validate(document)
    except Exception as exc:  # the validators raise several unrelated exception types
        errors.append(f"openapi-spec-validator: {path.name}: {exc}")
    try:
        # prance resolves the split files itself, so dangling refs between them surface here.
        ResolvingParser(str(path), backend="openapi-spec-validator", strict=True)
    except Exception as exc:
        errors.append(f"prance: {path.name}: {exc}")
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.spec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", help="validate the split contract, its bundle and the control API document")
    sub.add_parser("bundle", help="write dist/openapi.yaml and dist/openapi.json")
    args = parser.parse_args(argv)
    if args.command == "bundle":
        for path in write_bundle():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    problems = [f"not listed in openapi.yaml components: {name}" for name in unlisted_components()]
    for path in (SPEC_ROOT, CONTROL_SPEC):
        if path.exists():
            problems += validation_errors(path)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print("contract valid: openapi-spec-validator and prance found nothing")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
