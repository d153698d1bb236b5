"""The mock's reference pages as plain HTTP: outside the API's pipeline, the Calendar API's document
exactly as bundled (but for the mock listed first in `servers`). The rendering is tested in
tests/browser/test_reference_pages_browser.py."""
from __future__ import annotations

import json

import httpx

from tools import sdk


def test_reference_pages_are_plain_http_outside_the_api(live_mock):
    """Served without the API's frame; other methods and unknown paths get the API's own 404."""
    page = httpx.get(f"{live_mock.url}/docs", timeout=5)
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "X-RateLimit-Limit" not in page.headers
    served = httpx.get(f"{live_mock.url}/docs/openapi.json", timeout=5).json()
    assert served["servers"][0]["url"] == "/"  # "Try it out" talks to this mock
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in json.loads(sdk.BUNDLE.read_text(encoding="utf-8")).items() if k != "servers"}
    assert httpx.get(f"{live_mock.url}/docs/", timeout=5).headers["location"] == "/docs"
    assert httpx.head(f"{live_mock.url}/docs/assets/swagger-ui.css", timeout=5).headers["content-type"].startswith("text/css")
    for response in (httpx.post(f"{live_mock.url}/docs", timeout=5), httpx.get(f"{live_mock.url}/docs/assets/index.html", timeout=5)):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
