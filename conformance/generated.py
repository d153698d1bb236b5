"""The generated area: Schemathesis runs the bundled contract against the deployment, with our checks and pacing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from conformance.outcome import ERROR, FAILED, PASSED, SKIPPED, AreaResult, Evidence, Outcome
from conformance.settings import Settings
from conformance.world import World, iso

REPO_ROOT = Path(__file__).resolve().parent.parent
HOOKS_MODULE = "conformance.schemathesis_hooks"
# Our checks plus every built-in one that applies to this API. `max_response_time` is left to the
# operator (it is about performance, not conformance).
BUILTIN_CHECKS = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance", "missing_required_header",
    "unsupported_method", "allow_header_conformance", "use_after_free", "ensure_resource_availability", "ignored_auth",
)
OUR_CHECKS = ("error_envelope_and_request_id", "rate_limit_headers_coherent", "content_type_exact")
# These send methods the operation does not have (DELETE, PUT, TRACE…) to see 405: never under
# PROFILE=safe, where a production server might implement one of them undocumented.
WRITING_CHECKS = ("unsupported_method", "allow_header_conformance")
# Schema-valid input the API still refuses on business rules the schema cannot express: a start in
# the past (400), a cursor of another listing (400), an unknown id (404), a taken slot (409), no
# Stripe (412), an off-grid time (422). Everything else must be accepted.
POSITIVE_ACCEPTED = ["2xx", "400", "404", "409", "412", "422", "429"]
NEGATIVE_REJECTED = ["400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]
CHECKS_CONFIG = f"""\
# Written by conformance/generated.py for one run; report options stay on the command line.
[checks.positive_data_acceptance]
expected-statuses = {json.dumps(POSITIVE_ACCEPTED)}

[checks.negative_data_rejection]
expected-statuses = {json.dumps(NEGATIVE_REJECTED)}
"""


def command(settings: Settings, out_dir: Path, *, our_checks: bool = True) -> list[str]:
    """The Schemathesis CLI invocation for this run: every report option is on it.

    No --max-time: Schemathesis treats it as a budget to fill (fuzzing repeats until it is spent),
    so the run is bounded by --max-examples instead, and the subprocess is killed past its deadline.
    """
    # The stateful phase chains creates into updates and cancels, so PROFILE=safe never runs it.
    phases = ",".join(p for p in settings.generated_phases if not (settings.safe and p == "stateful"))
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(out_dir / "checks.toml"), "run", str(settings.spec),
        "--url", settings.base_url,
        "--header", f"Authorization: Bearer {settings.token}",
        "--checks", ",".join(c for c in BUILTIN_CHECKS + (OUR_CHECKS if our_checks else ()) if not (settings.safe and c in WRITING_CHECKS)),
        "--phases", phases,
        "--max-examples", str(settings.max_examples),
        "--workers", str(settings.workers),
        "--request-timeout", str(settings.timeout_s),
        "--generation-database", "none",
        "--report", "junit,ndjson",
        "--report-dir", str(out_dir),
        "--report-junit-path", str(out_dir / "junit.xml"),
        "--report-ndjson-path", str(out_dir / "events.ndjson"),
        "--no-color",
    ]
    if settings.seed is not None:
        cmd += ["--seed", str(settings.seed)]
    if settings.safe:
        cmd += ["--include-method", "GET"]
    return cmd


def run_generated(settings: Settings, world: World, progress: Callable[[str], None], *, our_checks: bool = True) -> AreaResult:
    """Run Schemathesis as a subprocess, bounded in time, and turn its events into one outcome per operation.

    `our_checks=False` runs plain Schemathesis (built-in checks, no hooks) with the same settings: the
    meta-tests use it to show which faults only our checks see.
    """
    result = AreaResult("generated")
    out_dir = settings.report_dir / "schemathesis"
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("events.ndjson", "junit.xml"):
        (out_dir / stale).unlink(missing_ok=True)
    config = CHECKS_CONFIG
    if settings.safe:
        # The coverage phase also probes each path with methods it lacks; under PROFILE=safe, none.
        config += "\n[phases.coverage]\nunexpected-methods = []\n"
    (out_dir / "checks.toml").write_text(config, encoding="utf-8")
    world.discover_member()
    rooms = [{"id": r.id, "slot_minutes": r.slot_minutes, "opens_at": r.opens_at, "closes_at": r.closes_at, "capacity": r.capacity}
             for r in world.rooms()] if not settings.safe else []
    env = {
        **{k: v for k, v in os.environ.items() if k != "SCHEMATHESIS_HOOKS"},
        **({"SCHEMATHESIS_HOOKS": HOOKS_MODULE} if our_checks else {}),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "LITEHQ_CONFORMANCE_SPEC": str(settings.spec),
        "LITEHQ_CONFORMANCE_ROOMS": json.dumps(rooms),
        "LITEHQ_CONFORMANCE_FIRST_DAY": iso(world.now() + timedelta(days=120)),
        "LITEHQ_CONFORMANCE_SEED": str(settings.seed or 0),
        "LITEHQ_CONFORMANCE_MEMBER": world.member_id or "",
        "LITEHQ_CONFORMANCE_CLOCK_SKEW_S": str(world.control.now().timestamp() - time.time()) if world.control else "",
    }
    cmd = command(settings, out_dir, our_checks=our_checks)
    result.notes.append("schemathesis " + " ".join(_shown(cmd)))
    started = time.monotonic()
    deadline = started + settings.generated_max_time_s
    counter = _ScenarioCounter(out_dir / "events.ndjson")
    with open(out_dir / "output.txt", "wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT)
        while process.poll() is None:
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                result.outcomes.append(Outcome("generated", "schemathesis", "Schemathesis finishes within its time budget", ERROR,
                                               f"killed after {time.monotonic() - started:.0f}s (budget --generated-max-time {settings.generated_max_time_s:.0f}s)"))
                break
            progress(f"{counter.count()} scenarios finished")
            time.sleep(0.5)
    result.duration_s = time.monotonic() - started
    outcomes, requests = parse_events(out_dir / "events.ndjson", world)
    result.requests = requests
    result.outcomes += outcomes
    if not result.outcomes:
        tail = (out_dir / "output.txt").read_text(encoding="utf-8", errors="replace")[-1500:]
        result.outcomes.append(Outcome("generated", "schemathesis", "Schemathesis runs the contract", ERROR,
                                       f"Schemathesis exited with {process.returncode} and reported nothing:\n{tail}"))
    return result


def _shown(cmd: list[str]) -> list[str]:
    out = []
    for part in cmd[1:]:
        if part.startswith("Authorization: Bearer "):
            part = "Authorization: Bearer ***"
        out.append(part)
    return out


class _ScenarioCounter:
    """Counts finished Schemathesis scenarios in the growing NDJSON file, reading only what is new."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.total = 0

    def count(self) -> int:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return self.total
        complete = chunk.rfind(b"\n") + 1
        self.total += chunk[:complete].count(b'"ScenarioFinished"')
        self.offset += complete
        return self.total


def parse_events(path: Path, world: World) -> tuple[list[Outcome], int]:
    """One outcome per operation from Schemathesis' NDJSON events: failed with evidence, passed, or skipped."""
    if not path.exists():
        return [], 0
    per_operation: dict[str, Outcome] = {}
    seen_failures: set[tuple[str, str, str]] = set()
    requests = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            for kind, payload in event.items():
                if kind == "ScenarioFinished":
                    requests += _record_scenario(payload, per_operation, seen_failures)
                elif kind == "NonFatalError":
                    label = payload.get("label") or "schemathesis"
                    outcome = per_operation.setdefault(label, Outcome("generated", label, _rule_of(label), PASSED))
                    outcome.status = ERROR
                    outcome.reason = str(payload.get("value", payload))[:800]
                elif kind == "FatalError":
                    per_operation["schemathesis"] = Outcome("generated", "schemathesis", "Schemathesis runs the contract", ERROR,
                                                            str(payload.get("exception", payload))[:800])
    return list(per_operation.values()), requests


def _rule_of(label: str) -> str:
    return f"{label} obeys the contract for generated valid and invalid input"


def _record_scenario(payload: dict[str, Any], per_operation: dict[str, Outcome], seen: set[tuple[str, str, str]]) -> int:
    recorder = payload.get("recorder") or {}
    label = recorder.get("label") or payload.get("label") or "stateful"
    phase = payload.get("phase") or ""
    label = label if phase != "stateful" else f"stateful: {label}"
    outcome = per_operation.setdefault(label, Outcome("generated", label, _rule_of(label), PASSED))
    status = payload.get("status")
    if status == "skip" and outcome.status == PASSED and not outcome.evidence:
        outcome.status = SKIPPED
        outcome.reason = str(payload.get("skip_reason") or "Schemathesis skipped it")
    elif outcome.status == SKIPPED and status != "skip":
        outcome.status, outcome.reason = PASSED, ""
    interactions = recorder.get("interactions") or {}
    cases = recorder.get("cases") or {}
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks:
            if check.get("status") != "failure":
                continue
            failure = check.get("failure_info", {}).get("failure") or check.get("failure") or {}
            title = failure.get("title") or check.get("name")
            key = (label, check.get("name", ""), title)
            if key in seen:
                continue
            seen.add(key)
            outcome.status = FAILED
            outcome.evidence.append(_evidence(check, failure, interactions.get(case_id) or {}, cases.get(case_id) or {}))
    return sum(1 for _ in interactions)


def _evidence(check: dict[str, Any], failure: dict[str, Any], interaction: dict[str, Any], case: dict[str, Any]) -> Evidence:
    request = interaction.get("request") or {}
    response = interaction.get("response") or {}
    headers = {k.lower(): (", ".join(v) if isinstance(v, list) else v) for k, v in (response.get("headers") or {}).items()}
    body = _decoded(response.get("content"))
    sent = f"{request.get('method', '')} {request.get('uri', '')}"
    if request.get("body") is not None:
        sent += "\n  body: " + _decoded(request.get("body"))[:600]
    got = f"HTTP {response.get('status_code', '?')}"
    for name in ("content-type", "x-request-id", "x-ratelimit-remaining", "ratelimit", "ratelimit-policy", "allow", "www-authenticate"):
        if name in headers:
            got += f"\n  {name}: {headers[name]}"
    got += "\n  body: " + body[:600]
    message = (failure.get("message") or "").strip()
    return Evidence(rule=f"{check.get('name')}: {failure.get('title') or ''}".strip(": "), message=message, request=sent,
                    response=got, request_id=headers.get("x-request-id"))


def _decoded(content: Any) -> str:
    if isinstance(content, dict) and "$base64" in content:
        import base64

        return base64.b64decode(content["$base64"]).decode("utf-8", errors="replace")
    if content is None:
        return ""
    return content if isinstance(content, str) else json.dumps(content)
