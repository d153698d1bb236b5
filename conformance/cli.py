"""Command line: `python -m conformance --base-url … --token …`, every option also readable from the environment."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from conformance.contract import DEFAULT_SPEC
from conformance.report import print_summary, write_reports
from conformance.runner import run
from conformance.settings import AREAS, PROFILES, Settings

DESCRIPTION = """\
Verify a LiteHQ Calendar API deployment against the contract (dist/openapi.json) and the docs' rules,
through HTTP only. Exit status: 0 when nothing failed, 1 when a rule was broken, 2 when no verdict
could be reached (bad input, unreachable server, refused token).

Every option can also be given as an environment variable (shown in brackets), which is how
`make conformance BASE_URL=… TOKEN=…` passes them."""

EPILOG = """\
areas: generated (Schemathesis), errors, auth, pagination, idempotency, rate_limits, lifecycle, availability, webhooks.
Optional tokens unlock scenarios; without them those scenarios are skipped and the report says which input
would run them. Against the mock (`make mock`) the control API at /_mock is found and used automatically:
it resets state before each area, pays checkouts, moves the clock, shrinks a bucket, and lends the demo
tokens, so only --token is needed.

examples:
  python -m conformance --base-url http://127.0.0.1:8080 --token sk_test_demo_rw
  python -m conformance --base-url https://staging.example.com/v1 --token "$TOKEN" \\
      --readonly-token "$RO" --other-token "$OTHER" --profile full
  python -m conformance --base-url https://api.litehq.com --token "$RO" --profile safe
"""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "")
    return value if value.strip() else default


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m conformance", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    need = p.add_argument_group("deployment")
    need.add_argument("--base-url", default=_env("BASE_URL"), help="origin of the API, e.g. https://api.litehq.com (a trailing /v1 is accepted) [BASE_URL]")
    need.add_argument("--token", default=_env("TOKEN"), help="read+write token of the workspace under test (read is enough with --profile safe) [TOKEN]")
    tokens = p.add_argument_group("optional inputs (each unlocks scenarios)")
    tokens.add_argument("--readonly-token", default=_env("READONLY_TOKEN"), help="calendar:read-only token of the same workspace: scope checks [READONLY_TOKEN]")
    tokens.add_argument("--other-token", default=_env("OTHER_TOKEN"), help="token of another workspace: isolation checks [OTHER_TOKEN]")
    tokens.add_argument("--nostripe-token", default=_env("NOSTRIPE_TOKEN"), help="token of a workspace without Stripe onboarding: 412 [NOSTRIPE_TOKEN]")
    tokens.add_argument("--revoked-token", default=_env("REVOKED_TOKEN"), help="a revoked token: 401 for revoked keys [REVOKED_TOKEN]")
    tokens.add_argument("--rate-limit-token", default=_env("RATE_LIMIT_TOKEN"), help="token whose bucket the suite may exhaust: 429 scenarios [RATE_LIMIT_TOKEN]")
    tokens.add_argument("--member-id", default=_env("MEMBER_ID"), help="a member (mem_…) of TOKEN's workspace: member/company filters [MEMBER_ID]")
    tokens.add_argument("--webhook-listen", default=_env("WEBHOOK_LISTEN"), metavar="HOST:PORT",
                        help="receive webhooks here: the deployment must already POST TOKEN's workspace's events to a URL that "
                        "reaches this address (without it, against a mock, the suite listens on 127.0.0.1 and registers "
                        "itself through the control API) [WEBHOOK_LISTEN]")
    tokens.add_argument("--webhook-secret", default=_env("WEBHOOK_SECRET"), metavar="whsec_…",
                        help="secret of that endpoint, to verify LiteHQ-Signature [WEBHOOK_SECRET]")
    tokens.add_argument("--webhook-wait", type=float, default=float(_env("WEBHOOK_WAIT", "30") or 30),
                        help="seconds to wait for expected webhook deliveries and retries [WEBHOOK_WAIT]")
    run_opts = p.add_argument_group("what to run")
    run_opts.add_argument("--profile", choices=PROFILES, default=_env("PROFILE", "full"),
                          help="full: everything; safe: read operations only, never creates data (for production) [PROFILE]")
    run_opts.add_argument("--areas", default=_env("AREAS", ",".join(AREAS)), help="comma-separated areas to run, in order [AREAS]")
    run_opts.add_argument("--only", default=_env("ONLY", ""), help="comma-separated scenario names to run (e.g. to rerun one failure) [ONLY]")
    run_opts.add_argument("--schemathesis-phases", default=_env("SCHEMATHESIS_PHASES", "examples,coverage,fuzzing,stateful"),
                          help="Schemathesis phases of the generated area [SCHEMATHESIS_PHASES]")
    run_opts.add_argument("--max-examples", type=int, default=int(_env("MAX_EXAMPLES", "8") or 8), help="Schemathesis examples per operation and phase [MAX_EXAMPLES]")
    run_opts.add_argument("--seed", type=int, default=int(s) if (s := _env("SEED")) else None, help="Schemathesis seed, for a reproducible run [SEED]")
    run_opts.add_argument("--no-control", action="store_true", default=bool(_env("NO_CONTROL")), help="ignore the mock control API even if present [NO_CONTROL]")
    run_opts.add_argument("--spec", type=Path, default=Path(_env("SPEC", str(DEFAULT_SPEC)) or DEFAULT_SPEC), help="bundled contract to test against [SPEC]")
    bounds = p.add_argument_group("bounds")
    bounds.add_argument("--timeout", type=float, default=float(_env("TIMEOUT", "10") or 10), help="seconds per request [TIMEOUT]")
    bounds.add_argument("--max-requests", type=int, default=int(_env("MAX_REQUESTS", "5000") or 5000), help="cap on scenario requests [MAX_REQUESTS]")
    bounds.add_argument("--max-time", type=float, default=float(_env("MAX_TIME", "900") or 900), help="seconds for the whole run [MAX_TIME]")
    bounds.add_argument("--generated-max-time", type=float, default=float(_env("GENERATED_MAX_TIME", "120") or 120), help="seconds for Schemathesis [GENERATED_MAX_TIME]")
    bounds.add_argument("--workers", type=int, default=int(_env("WORKERS", "1") or 1), help="Schemathesis workers [WORKERS]")
    out = p.add_argument_group("output")
    out.add_argument("--report-dir", type=Path, default=Path(_env("REPORT_DIR", "reports/conformance") or "reports/conformance"),
                     help="where junit.xml, report.html and report.md go [REPORT_DIR]")
    out.add_argument("--quiet", action="store_true", help="no progress lines, only the final summary")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.base_url or not args.token:
        parser().print_usage(sys.stderr)
        sys.stderr.write("error: --base-url (BASE_URL) and --token (TOKEN) are required\n")
        return 2
    try:
        settings = Settings(
            base_url=args.base_url, token=args.token, readonly_token=args.readonly_token, other_token=args.other_token,
            nostripe_token=args.nostripe_token, revoked_token=args.revoked_token, rate_limit_token=args.rate_limit_token,
            member_id=args.member_id, webhook_listen=args.webhook_listen, webhook_secret=args.webhook_secret,
            webhook_wait_s=args.webhook_wait, profile=args.profile, max_examples=args.max_examples,
            areas=tuple(a.strip() for a in args.areas.split(",") if a.strip()), report_dir=args.report_dir, spec=args.spec,
            use_control=not args.no_control, timeout_s=args.timeout, max_requests=args.max_requests, max_time_s=args.max_time,
            generated_max_time_s=args.generated_max_time, workers=args.workers, seed=args.seed, quiet=args.quiet,
            only=tuple(n.strip() for n in args.only.split(",") if n.strip()),
            generated_phases=tuple(p.strip() for p in args.schemathesis_phases.split(",") if p.strip()),
        )
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if not settings.spec.is_file():
        sys.stderr.write(f"error: the contract {settings.spec} does not exist (run `make bundle`, or pass --spec)\n")
        return 2
    if not settings.quiet:
        print(f"LiteHQ conformance · {settings.base_url} · profile {settings.profile} · areas {', '.join(settings.areas)}")
    result = run(settings)
    write_reports(result, settings.report_dir)
    print_summary(result, sys.stdout, settings.report_dir)
    return result.exit_code
