"""What the suite reads from the bundled contract: operations, documented statuses and media types."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "dist" / "openapi.json"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Operation:
    """One documented method on one path template."""

    method: str
    path: str
    operation_id: str
    responses: dict[str, Any]
    pattern: re.Pattern[str]

    @property
    def is_read(self) -> bool:
        return self.method in READ_METHODS

    def media_types(self, status: int) -> list[str]:
        response = self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX") or self.responses.get("default")
        return list((response or {}).get("content", {}))


class Contract:
    """The bundled OpenAPI document, indexed for the questions the suite asks of it."""

    def __init__(self, document: dict[str, Any], path: Path | None = None) -> None:
        self.document = document
        self.path = path

    @classmethod
    def load(cls, path: Path = DEFAULT_SPEC) -> Contract:
        return cls(_resolve_refs(json.loads(path.read_text(encoding="utf-8"))), path)

    @cached_property
    def operations(self) -> list[Operation]:
        found = []
        for template, item in self.document.get("paths", {}).items():
            regex = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                if method in ("parameters", "summary", "description", "servers"):
                    continue
                found.append(Operation(method.upper(), template, op["operationId"], op.get("responses", {}), regex))
        return found

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path (query stripped) is routed to, if any."""
        path = path.split("?", 1)[0]
        for op in self.operations:
            if op.method == method.upper() and op.pattern.match(path):
                return op
        return None

    def methods_of(self, path: str) -> set[str]:
        return {op.method for op in self.operations if op.pattern.match(path.split("?", 1)[0])}

    @cached_property
    def error_codes(self) -> list[str]:
        return list(self.document["components"]["schemas"]["ErrorCode"]["enum"])


def _resolve_refs(document: dict[str, Any]) -> dict[str, Any]:
    """Inline local `#/…` references so lookups need no resolver (the bundle has no cycles we walk)."""

    def follow(pointer: str) -> Any:
        node: Any = document
        for part in pointer.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def walk(node: Any, depth: int) -> Any:
        if depth > 40:
            return node
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and "/schemas/" not in node["$ref"]:
                return walk(follow(node["$ref"]), depth + 1)
            return {k: walk(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, depth + 1) for v in node]
        return node

    return walk(document, 0)
