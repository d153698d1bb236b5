"""List latency at 1k / 100k / 1M bookings, memory at 100k, and the conformance suite's wall time.

Run with `make bench-scale` (or `python bench/scale.py --sizes 1000,100000`). Each size runs in a
fresh process: bookings are generated straight into the store (the bulk fixture below), then
GET /v1/bookings pages are timed in-process through the whole ASGI app (auth, rate limit off,
validation, handler, JSON), so what is measured is the mock, not the network. Then the full
conformance suite runs against a fresh `python -m mock_server` on a free loopback port, exactly as
`make conformance BASE_URL=… TOKEN=sk_test_demo_rw` would (`--no-conformance` skips it).
Writes bench/scale_results.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import compare  # noqa: E402  (the bench's own helpers)

START = datetime(2027, 1, 4, tzinfo=UTC)
ROOMS = 200


def bulk_fixture(backend, count: int) -> None:
    """`count` bookings over ROOMS round-the-clock rooms of ws_demo, 15-minute slots, no overlaps.

    Goes through the store directly (the rules would only re-check what the generator guarantees),
    and records no events, so memory is the bookings and their indexes.
    """
    from mock_server.domain.models import Booker, Booking, BookingStatus, Charge, Room

    store = backend.store
    rooms = []
    for r in range(ROOMS):
        room = Room(f"rm_bulk{r:04d}", "ws_demo", f"Bulk {r}", "bulk", 10, 15, datetime.min.time(), None, 2000, "GBP")
        store.add_room(room)
        rooms.append(room)
    members = [("mem_alice", "co_acme"), ("mem_bob", "co_acme")]
    ids = backend.ids
    created = datetime(2026, 12, 1, tzinfo=UTC)
    for i in range(count):
        room = rooms[i % ROOMS]
        start = START + timedelta(minutes=15 * (i // ROOMS))
        member, company = members[i % 2]
        status = BookingStatus.CONFIRMED if i % 3 else BookingStatus.PENDING_PAYMENT
        booking = Booking(
            id=ids.new("bk"), workspace_id="ws_demo", room=room, status=status, start_at=start,
            end_at=start + timedelta(minutes=15), booker=Booker(member_id=member, company_id=company),
            attendees=1 + i % 4, notes=None, price_minor=500, currency="GBP", created_at=created, updated_at=created,
        )
        if status is BookingStatus.CONFIRMED:
            booking.charges.append(Charge(ids.new("ch"), "booking", 500, "GBP", created))
        store.insert_booking(booking)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _app():
    warnings.simplefilter("ignore")
    from mock_server.app import create_app
    from mock_server.domain.clock import MockClock
    from mock_server.domain.models import RateLimitPolicy

    return create_app(clock=MockClock(datetime(2026, 12, 1, tzinfo=UTC), frozen=True), seed=1, rate_limit=RateLimitPolicy(enabled=False))


def _app_with(count: int):
    app = _app()
    bulk_fixture(app.backend, count)
    return app


def measure_memory(count: int) -> dict:
    """Load time and resident memory of one store size, in a process of its own."""
    app = _app()
    baseline = rss_mb()
    began = time.perf_counter()
    bulk_fixture(app.backend, count)
    load_s = time.perf_counter() - began
    after_load = rss_mb()
    return {"count": count, "load_s": load_s, "rss_mb": after_load, "bookings_mb": after_load - baseline}


def measure_latency(counts: list[int], pages: int) -> dict:
    """Page latencies of every size, measured in one process and interleaved request by request,
    so that whatever else the machine does slows every size alike."""
    from urllib.parse import quote

    apps = {count: _app_with(count) for count in counts}
    end = (START + timedelta(days=36500)).isoformat().replace("+00:00", "Z")

    async def get(app, query: str) -> tuple[float, dict]:
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/v1/bookings",
            "raw_path": b"/v1/bookings", "query_string": query.encode(), "root_path": "", "server": ("bench", 80),
            "client": ("bench", 1), "headers": [(b"host", b"bench"), (b"authorization", b"Bearer sk_test_demo_ro")],
        }
        t0 = time.perf_counter()
        await app(scope, receive, send)
        elapsed = time.perf_counter() - t0
        assert sent[0]["status"] == 200, sent
        return elapsed, json.loads(b"".join(m.get("body", b"") for m in sent[1:]))

    async def run() -> dict:
        base = f"limit=50&from=2027-01-01T00:00:00Z&to={end}"
        queries = {}
        for count, app in apps.items():
            # A page from the middle of the store: seek by the cursor of the page before it.
            middle_start = (START + timedelta(minutes=15 * (count // ROOMS // 2))).isoformat().replace("+00:00", "Z")
            mid_query = f"limit=50&from={quote(middle_start)}&to={end}"
            _, page = await get(app, mid_query)
            queries[count] = {"first": base, "deep": f"{mid_query}&cursor={quote(page['next_cursor'])}",
                              "room": f"{base}&room_id=rm_bulk0007&status=confirmed"}
            for query in queries[count].values():
                await get(app, query)  # warm-up
        timings = {count: {kind: [] for kind in queries[count]} for count in apps}
        for _ in range(pages):
            for count, app in apps.items():
                for kind, query in queries[count].items():
                    timings[count][kind].append((await get(app, query))[0])
        return timings

    results = {}
    for count, by_kind in asyncio.run(run()).items():
        results[count] = {
            "median_ms": {k: statistics.median(v) * 1000 for k, v in by_kind.items()},
            "p95_ms": {k: sorted(v)[int(len(v) * 0.95) - 1] * 1000 for k, v in by_kind.items()},
        }
    return results


def conformance_wall_time(timeout_s: float = 900.0) -> dict:
    """Wall time of the full conformance suite against a fresh mock (default fixture and limits)."""
    import tempfile

    port = compare.free_port()
    base_url = f"http://127.0.0.1:{port}"
    mock = subprocess.Popen([sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        compare.wait_until_serving(f"{base_url}/_mock/clock", mock)
        env = {**os.environ, "BASE_URL": base_url, "TOKEN": "sk_test_demo_rw"}
        with tempfile.TemporaryDirectory() as reports:
            began = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "conformance", "--quiet", "--report-dir", reports], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=timeout_s)
            wall = time.perf_counter() - began
        lines = run.stdout.splitlines()
        total = next((line.split() for line in lines if line.startswith("Total")), None)
        counts = f"{total[1]} passed, {total[2]} failed, {total[3]} skipped, {total[4]} requests" if total and len(total) >= 5 else ""
        return {"wall_s": wall, "exit": run.returncode, "summary": counts}
    finally:
        compare.stop(mock)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated booking counts")
    parser.add_argument("--pages", type=int, default=500, help="timed requests per size and kind of page")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: memory of one size, print JSON
    parser.add_argument("--timing", action="store_true", help=argparse.SUPPRESS)  # internal: latency of all sizes
    parser.add_argument("--no-conformance", action="store_true", help="skip timing the conformance suite against a mock")
    parser.add_argument("--out", default=str(ROOT / "bench" / "scale_results.md"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.one is not None:
        print(json.dumps(measure_memory(args.one)))
        return 0
    if args.timing:
        print(json.dumps(measure_latency(sizes, args.pages)))
        return 0

    def child(*extra: str) -> dict:
        result = subprocess.run([sys.executable, __file__, "--sizes", args.sizes, "--pages", str(args.pages), *extra],
                                capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            raise SystemExit(1)
        return json.loads(result.stdout.strip().splitlines()[-1])

    rows = []
    for size in sizes:
        print(f"loading {size:,} bookings (memory)…", flush=True)
        rows.append(child("--one", str(size)))
    print(f"timing pages of every size, interleaved ({args.pages} rounds)…", flush=True)
    latency = child("--timing")
    for row in rows:
        row.update(latency[str(row["count"])])

    lines = [
        "# Mock scale benchmark",
        "",
        f"`make bench-scale` on {datetime.now(UTC):%Y-%m-%d}: GET /v1/bookings?limit=50 through the whole ASGI app, in-process,"
        f" median (p95) of {args.pages} requests per size and kind, all sizes in one process and interleaved request by"
        " request. `deep` seeks to the middle of the store with a cursor; `room` filters by room and status (a full page"
        f" only once the store holds {ROOMS * 50 * 3 // 2:,} bookings or more: they are spread over {ROOMS} rooms). RSS is a"
        " fresh process after loading one size; `bookings` is RSS growth from loading them.",
        "",
        "| bookings | first page ms | deep page ms | room+status ms | load s | RSS MB | bookings MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        m, p = r["median_ms"], r["p95_ms"]
        lines.append(
            f"| {r['count']:,} | {m['first']:.2f} ({p['first']:.2f}) | {m['deep']:.2f} ({p['deep']:.2f}) | "
            f"{m['room']:.2f} ({p['room']:.2f}) | {r['load_s']:.1f} | {r['rss_mb']:.0f} | {r['bookings_mb']:.0f} |"
        )
    if not args.no_conformance:
        print("running the conformance suite against a fresh mock…", flush=True)
        suite = conformance_wall_time()
        verdict = "passed" if suite["exit"] == 0 else f"exit {suite['exit']}"
        lines += [
            "",
            f"Full conformance suite against a fresh mock (`make conformance BASE_URL=http://127.0.0.1:PORT TOKEN=sk_test_demo_rw`, "
            f"default fixture and rate limits): **{suite['wall_s']:.1f} s** wall, {verdict} ({suite['summary']}).",
        ]
    report = "\n".join(lines) + "\n"
    Path(args.out).write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
