"""`python -m mock_server`: serve the stateful LiteHQ Calendar API mock with uvicorn, one process."""

from __future__ import annotations

import argparse
import gc
import re
import sys

from .domain.fixtures import DEMO_FIXTURE, FixtureError
from .domain.instants import parse_instant
from .domain.models import RateLimitPolicy


def rate_limit_policy(text: str) -> RateLimitPolicy | None:
    """`off`, `N` (N requests/min sustained, 5×N burst, like the docs' 100/500) or `BURST/PER_MINUTE`."""
    text = text.strip().lower()
    if text == "default":
        return None
    if text == "off":
        return RateLimitPolicy(enabled=False)
    if match := re.fullmatch(r"(\d+)/(\d+(?:\.\d+)?)", text):
        burst, per_minute = int(match[1]), float(match[2])
    elif text.isdigit():
        per_minute = float(text)
        burst = int(text) * 5
    else:
        raise argparse.ArgumentTypeError("use off, N (per minute) or BURST/PER_MINUTE, e.g. 500/100")
    if burst < 1 or per_minute <= 0:
        raise argparse.ArgumentTypeError("burst and rate must be positive")
    return RateLimitPolicy(capacity=burst, refill_per_minute=per_minute)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mock_server",
        description="Serve the stateful reference mock of the LiteHQ Calendar API (openapi/openapi.yaml) and its "
        "control API under /_mock (openapi/mock-control.yaml). State lives in memory, in one process.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1; the control API has no auth)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--fixture", metavar="FILE", default=str(DEMO_FIXTURE),
                        help="YAML fixture with workspaces, tokens, rooms, members (default: the demo fixture)")
    parser.add_argument("--seed", help="seed for ids, so runs are reproducible (default: random)")
    parser.add_argument("--rate-limit", type=rate_limit_policy, default=None, metavar="off|N|BURST/PER_MIN",
                        help="override every workspace's rate limit: 'off' for load tests, N requests/min "
                        "(burst 5×N), or BURST/PER_MIN (default: the fixture's, 500 burst at 100/min)")
    parser.add_argument("--clock", metavar="RFC3339", help="start the mock clock at this instant (default: now)")
    parser.add_argument("--frozen", action="store_true", help="freeze the mock clock: it moves only through /_mock/clock")
    parser.add_argument("--public-url", metavar="URL", help="base URL put in checkout_url links (default: http://HOST:PORT)")
    hooks = parser.add_argument_group("webhooks (every workspace's endpoint; the control API can set one per workspace)")
    hooks.add_argument("--webhook-url", metavar="URL", help="POST every workspace's booking events to this URL (make mock WEBHOOK_URL=…)")
    hooks.add_argument("--webhook-secret", metavar="whsec_…",
                       help="secret that signs them (make mock WEBHOOK_SECRET=…; default: a new one, printed at start)")
    hooks.add_argument("--webhook-attempts", type=int, default=10, metavar="N", help="attempts per delivery before it fails (default 10)")
    hooks.add_argument("--webhook-base-delay", type=float, default=1.0, metavar="SECONDS",
                       help="wait after the first failed attempt, doubled after each further one, at most 300 s (default 1)")
    hooks.add_argument("--webhook-timeout", type=float, default=10.0, metavar="SECONDS", help="an attempt with no answer by then fails (default 10)")
    parser.add_argument("--validate-responses", action="store_true",
                        help="check every response against the contract (slower; violations become 500s and are logged)")
    parser.add_argument("--access-log", action="store_true", help="log every request (off by default: it costs ~15%% throughput)")
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                        help="uvicorn log level (default warning)")
    parser.add_argument("--workers", type=int, default=1,
                        help="must be 1: the state is in memory, so several processes would each hold a different world")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.workers != 1:
        print("mock_server: --workers must be 1. The mock keeps its state in memory; with several worker "
              "processes a booking created on one would be a 404 on the others. Run one process.", file=sys.stderr)
        return 2

    import warnings

    import uvicorn

    # Connexion imports starlette.testclient, which warns about httpx; users need not see it.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from .app import create_app
    from .domain.backend import Backend
    from .domain.clock import MockClock
    from .domain.errors import ApiError
    from .domain.webhooks import RetryPolicy

    start = None
    if args.clock:
        try:
            start = parse_instant(args.clock, param="--clock")
        except Exception as exc:
            print(f"mock_server: {exc}", file=sys.stderr)
            return 2
    host_for_urls = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base_url = f"http://{host_for_urls}:{args.port}"
    if args.webhook_secret and not args.webhook_url:
        print("mock_server: --webhook-secret (WEBHOOK_SECRET) needs --webhook-url (WEBHOOK_URL)", file=sys.stderr)
        return 2
    try:
        policy = RetryPolicy(max_attempts=args.webhook_attempts, base_delay_s=args.webhook_base_delay, timeout_s=args.webhook_timeout)
    except ValueError as exc:
        print(f"mock_server: webhook options: {exc}", file=sys.stderr)
        return 2
    try:
        backend = Backend(
            fixture=args.fixture,
            clock=MockClock(start, frozen=args.frozen),
            seed=args.seed,
            rate_limit=args.rate_limit,
            public_url=args.public_url or base_url,
            webhook_url=args.webhook_url or None,
            webhook_secret=args.webhook_secret or None,
            webhook_policy=policy,
        )
        app = create_app(backend=backend, validate_responses=args.validate_responses)
    except FixtureError as exc:
        print(f"mock_server: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:  # a malformed --webhook-url or --webhook-secret
        print(f"mock_server: --webhook-{exc.param}: {exc.message}", file=sys.stderr)
        return 2

    print(f"LiteHQ Calendar API mock on {base_url}/v1  (control API: {base_url}/_mock)")
    for workspace in sorted(app.backend.store.workspaces.values(), key=lambda w: w.id):
        for token in app.backend.tokens_of(workspace.id):
            state = "revoked" if token.revoked else " ".join(sorted(token.scopes))
            print(f"  {workspace.id:<14} {token.token:<26} {state}")
    if args.rate_limit is not None:
        policy = args.rate_limit
        limits = "off" if not policy.enabled else f"{policy.capacity} burst, {policy.refill_per_minute:g}/min"
        print(f"rate limits for every workspace: {limits}")
    if backend.startup_webhook is not None:
        url, secret = backend.startup_webhook
        print(f"webhooks of every workspace → {url}  (secret {secret}; {policy.max_attempts} attempts, "
              f"backoff from {policy.base_delay_s:g} s, timeout {policy.timeout_s:g} s)")
    print(f"API reference: {base_url}/docs  (control API: {base_url}/_mock/docs)")
    print(f"try: curl -H 'Authorization: Bearer sk_test_demo_rw' {base_url}/v1/rooms", flush=True)
    # What lives as long as the process (the parsed documents, Connexion's operations, the fixture)
    # never becomes cyclic garbage: freeze it, so the collector's passes walk only what requests
    # create. And collect the young generation every 10,000 net allocations instead of 700: a
    # request allocates hundreds of objects, so CPython's default ran a collection every few
    # requests and, as the store grew, full passes over every booking (40k creates: 1.4 s of GC,
    # pauses up to 280 ms; now 0.4 s, under 70 ms). Neither changes behaviour; reference counting
    # still frees everything acyclic at once.
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=args.access_log, log_level=args.log_level, date_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
