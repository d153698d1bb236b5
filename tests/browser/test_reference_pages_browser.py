"""The mock's reference pages (/docs, /_mock/docs) in headless Chromium (fixtures: tests/browser/conftest.py):
every operation of each document is on its page, the 3.1 document renders as 3.1, and the page loads
nothing from outside the mock."""
from __future__ import annotations

import json

import httpx
import pytest

from tools import sdk

pytestmark = pytest.mark.browser

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(document: dict) -> list[tuple[str, str, str]]:
    """(method, path or webhook name, operationId) for every operation, webhooks included."""
    found = []
    for section in ("paths", "webhooks"):
        for name, item in (document.get(section) or {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    found.append((method.upper(), name, item[method]["operationId"]))
    return found


def render(browser, url: str, expected: int) -> tuple[list[dict], list[str], list[str], object]:  # type: ignore[no-untyped-def]
    """Open url, wait until `expected` operations are rendered; return them, every URL requested, page errors."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="load", timeout=30_000)
    page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {expected}", timeout=30_000)
    rendered = page.eval_on_selector_all(".opblock", """blocks => blocks.map(block => ({
        id: block.id,
        method: block.querySelector('.opblock-summary-method')?.textContent.trim(),
        path: block.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated')?.getAttribute('data-path'),
        visible: block.getBoundingClientRect().height > 0,
    }))""")
    return rendered, requested, errors, page


@pytest.mark.parametrize("page_path, document_path", [
    ("/docs", None),  # the Calendar API: compared with dist/openapi.json, the bundle SDK authors get
    ("/_mock/docs", "/_mock/docs/openapi.json"),  # the control API, as the mock serves it
], ids=["calendar-api", "control-api"])
def test_reference_page_renders_every_operation_of_its_document(browser, live_mock, page_path, document_path):
    if document_path is None:
        document = json.loads(sdk.BUNDLE.read_text(encoding="utf-8"))
    else:
        document = httpx.get(live_mock.url + document_path, timeout=5).json()
    expected = operations(document)
    assert expected

    rendered, requested, errors, page = render(browser, live_mock.url + page_path, len(expected))
    try:
        by_operation = {block["id"].rsplit("-", 1)[-1]: block for block in rendered}
        for method, path, operation_id in expected:
            block = by_operation.get(operation_id)
            assert block is not None, f"{method} {path} ({operation_id}) is not on {page_path}"
            assert (block["method"], block["path"], block["visible"]) == (method, path, True), block
        assert len(rendered) == len(expected), sorted(by_operation)

        # Rendered as an OpenAPI 3.1 document (Swagger UI 4 would show "Unable to render this definition").
        assert page.locator(".version-stamp").inner_text().strip() == "OAS 3.1"
        assert page.locator(".errors-wrapper").count() == 0
        assert page.locator(".title").first.inner_text().startswith(document["info"]["title"])
        assert errors == []
        # No CDN: the page, Swagger UI and the document all come from the mock.
        outside = [url for url in requested if not url.startswith(live_mock.url + "/")]
        assert outside == []
        assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in requested)
    finally:
        page.close()
