"""The frame's header stamping (mock_server/api/pipeline.py `stamp`) does what MutableHeaders did."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import MutableHeaders

from mock_server.api.pipeline import stamp

RATE = {"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "499", "X-RateLimit-Reset": "1", "RateLimit-Policy": '"w";q=500;w=300',
        "RateLimit": '"w";r=499;t=1'}
names = st.sampled_from([b"x-request-id", b"content-type", b"x-ratelimit-limit", b"ratelimit", b"retry-after", b"X-Request-Id",
                         b"www-authenticate", b"x-ratelimit-remaining"])
headers = st.lists(st.tuples(names, st.binary(max_size=5)), max_size=8)


def reference(message: dict, request_id: str, rate_headers: dict[str, str]) -> None:
    """The frame's code before `stamp`."""
    mutable = MutableHeaders(scope=message)
    mutable["X-Request-Id"] = request_id
    for name, value in rate_headers.items():
        if name not in mutable:
            mutable[name] = value


@settings(max_examples=300)
@given(raw=headers, rate=st.sampled_from([RATE, {}, {"X-RateLimit-Limit": "20"}]), request_id=st.sampled_from(["req_a", "req_Zz9"]))
def test_stamp_sets_request_id_and_missing_rate_headers_as_mutable_headers_did(raw, rate, request_id):
    ours = {"type": "http.response.start", "status": 200, "headers": list(raw)}
    theirs = {"type": "http.response.start", "status": 200, "headers": list(raw)}
    stamp(ours, request_id, rate)
    reference(theirs, request_id, rate)
    assert [tuple(h) for h in ours["headers"]] == [tuple(h) for h in theirs["headers"]]
