"""API reference pages served by the mock: `/docs` (the Calendar API) and `/_mock/docs` (its control API).

Swagger UI 5 — the first major version that renders OpenAPI 3.1 — comes from the pinned PyPI wheel
`swagger-ui-bundle-v2` (its `swagger-ui-bundle.js` and `swagger-ui.css`), served from memory under
`/docs/assets/`: no CDN, no network at run time, nothing but Python needed (`make mock` on a fresh
machine). Each page loads the document the mock itself serves, at `/docs/openapi.json` and
`/_mock/docs/openapi.json`; the Calendar API's copy lists the mock first in `servers`, so "Try it
out" talks to the mock.

These are pages about the API, not API routes: `ReferencePages` sits outside the whole request
pipeline (frame, rate limit, contract check) and answers only `GET`/`HEAD` of its own few paths;
every other request goes straight on after one string comparison. Any other method on these
paths, or an unknown path under them, gets the API's own 404 `not_found`.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable
from functools import cache
from html import escape
from importlib import metadata
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

CALENDAR_PAGE = "/docs"
CONTROL_PAGE = "/_mock/docs"
ASSETS = "/docs/assets/"
_PREFIXES = (CALENDAR_PAGE, CONTROL_PAGE)
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
DISTRIBUTION = "swagger-ui-bundle-v2"


class SwaggerUIMissing(RuntimeError):
    """The pinned Swagger UI 5 distribution is not installed."""


@cache
def swagger_ui_dist() -> tuple[Path, str]:
    """The folder of the Swagger UI dist inside the pinned wheel, and its version (5.x)."""
    try:
        files = metadata.files(DISTRIBUTION) or []
    except metadata.PackageNotFoundError as exc:
        raise SwaggerUIMissing(f"{DISTRIBUTION} is not installed: run `make venv` (it is pinned in requirements.txt)") from exc
    # Located through the wheel's own file list, not `swagger_ui_bundle.swagger_ui_path`: an older
    # `swagger-ui-bundle` (Swagger UI 4, same import name) may linger in a virtualenv made before.
    for file in files:
        if file.name == "swagger-ui-bundle.js" and file.parent.name.startswith("swagger-ui-"):
            folder = Path(str(file.locate())).parent
            version = folder.name.removeprefix("swagger-ui-")
            if not version.startswith("5."):
                raise SwaggerUIMissing(f"{DISTRIBUTION} ships Swagger UI {version}; OpenAPI 3.1 needs 5.x")
            return folder, version
    raise SwaggerUIMissing(f"{DISTRIBUTION} has no swagger-ui-bundle.js")


def _page(title: str, spec_url: str, current: str) -> bytes:
    links = " · ".join(
        f'<a href="{href}"{" aria-current=page" if href == current else ""}>{label}</a>'
        for href, label in ((CALENDAR_PAGE, "Calendar API"), (CONTROL_PAGE, "Mock control API"))
    )
    config = {
        "url": spec_url,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "docExpansion": "list",
        "defaultModelsExpandDepth": 0,
        "displayOperationId": True,
        "displayRequestDuration": True,
        "validatorUrl": None,  # never ask an online validator
        "layout": "BaseLayout",
    }
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — reference (LiteHQ mock)</title>
<link rel="stylesheet" href="{ASSETS}swagger-ui.css">
<link rel="icon" type="image/png" sizes="32x32" href="{ASSETS}favicon-32x32.png">
<style>
body {{ margin: 0; }}
.litehq-nav {{ font: 14px/1.5 system-ui, sans-serif; padding: .5rem 1.25rem; background: #1b1b1b; color: #ddd; }}
.litehq-nav a {{ color: #9fd3ff; }}
.litehq-nav a[aria-current] {{ color: #fff; font-weight: 600; text-decoration: none; }}
</style>
</head>
<body>
<nav class="litehq-nav" aria-label="API references">Served by the LiteHQ mock: {links} · <a href="{escape(spec_url)}">{escape(spec_url.rsplit("/", 1)[-1])}</a></nav>
<div id="swagger-ui"></div>
<script src="{ASSETS}swagger-ui-bundle.js"></script>
<script>
const config = {json.dumps(config)};
config.presets = [SwaggerUIBundle.presets.apis];
window.ui = SwaggerUIBundle(config);
</script>
</body>
</html>
""".encode()


class ReferencePages:
    """Outermost middleware: the two reference pages, their documents and Swagger UI's assets."""

    def __init__(self, app: ASGIApp, *, calendar_doc: dict, control_doc: dict) -> None:
        self.app = app
        swagger_ui_dist()  # fail at start-up, not on the first page view, if Swagger UI 5 is missing
        served = {
            **calendar_doc,
            # "Try it out" sends requests to the mock that serves the page; production stays listed.
            "servers": [{"url": "/", "description": "This mock (the page's own origin)"}, *calendar_doc.get("servers", [])],
        }
        html = "text/html; charset=utf-8"
        self.pages: dict[str, tuple[str, bytes]] = {
            CALENDAR_PAGE: (html, _page(calendar_doc["info"]["title"], f"{CALENDAR_PAGE}/openapi.json", CALENDAR_PAGE)),
            f"{CALENDAR_PAGE}/openapi.json": ("application/json", json.dumps(served, ensure_ascii=False).encode()),
            CONTROL_PAGE: (html, _page(control_doc["info"]["title"], f"{CONTROL_PAGE}/openapi.json", CONTROL_PAGE)),
            f"{CONTROL_PAGE}/openapi.json": ("application/json", json.dumps(control_doc, ensure_ascii=False).encode()),
        }
        self.assets: dict[str, tuple[str, bytes]] = {}
        self.redirects = {f"{CALENDAR_PAGE}/": CALENDAR_PAGE, f"{CONTROL_PAGE}/": CONTROL_PAGE}

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function that hands back the next app's coroutine: an API request costs one type
        # check and one `startswith`, and no extra coroutine frame.
        if scope["type"] == "http" and scope["path"].startswith(_PREFIXES) and scope["method"] in ("GET", "HEAD"):
            if (target := self.redirects.get(scope["path"])) is not None:
                return self._redirect(send, target)
            found = self._find(scope["path"])
            if found is not None:
                return self._answer(scope, send, *found)
        return self.app(scope, receive, send)

    @staticmethod
    async def _redirect(send: Send, target: str) -> None:
        await send({"type": "http.response.start", "status": 308, "headers": [(b"location", target.encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def _find(self, path: str) -> tuple[str, bytes, str] | None:
        if path in self.pages:
            content_type, body = self.pages[path]
            return content_type, body, "no-cache"
        if path.startswith(ASSETS):
            name = path[len(ASSETS):]
            if name not in _ASSET_TYPES:
                return None
            if name not in self.assets:
                folder, _ = swagger_ui_dist()
                self.assets[name] = (_ASSET_TYPES[name], (folder / name).read_bytes())
            content_type, body = self.assets[name]
            return content_type, body, "public, max-age=86400"
        return None

    @staticmethod
    async def _answer(scope: Scope, send: Send, content_type: str, body: bytes, cache_control: str) -> None:
        headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache_control.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
