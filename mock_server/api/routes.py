"""The route table of the served documents: which paths exist, with which methods and operations.

The frame uses it to answer unknown paths (404) and wrong methods (405 with a complete `Allow`)
before Connexion routes; the contract check uses it to find the operation a response belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(slots=True)
class Route:
    template: str  # full path template, e.g. /v1/bookings/{id}
    pattern: re.Pattern
    operations: dict[str, dict] = field(default_factory=dict)  # METHOD -> operation object

    @property
    def allow(self) -> list[str]:
        methods = set(self.operations)
        if "GET" in methods:
            methods.add("HEAD")  # Starlette answers HEAD wherever GET is routed
        order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
        return [m for m in order if m in methods]


class RouteTable:
    def __init__(self) -> None:
        self._static: dict[str, Route] = {}
        self._templated: list[Route] = []

    def add_document(self, document: dict, base_path: str = "") -> None:
        for template, item in (document.get("paths") or {}).items():
            full = base_path.rstrip("/") + template
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(full)) + r"\Z")
            route = Route(full, pattern)
            for method in HTTP_METHODS:
                if method in item:
                    route.operations[method.upper()] = item[method]
            if "{" in full:
                self._templated.append(route)
            else:
                self._static[full] = route

    def match(self, path: str) -> Route | None:
        route = self._static.get(path)
        if route is not None:
            return route
        # Static templates win over templated ones, as in Starlette's routing.
        for route in self._templated:
            if route.pattern.match(path):
                return route
        return None
