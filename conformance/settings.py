"""The run's inputs: where the deployment is, which tokens unlock which areas, and the bounds of the run."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from conformance.contract import DEFAULT_SPEC

AREAS = ("generated", "errors", "auth", "pagination", "idempotency", "rate_limits", "lifecycle", "availability", "webhooks")
PROFILES = ("full", "safe")


def normalize_base_url(url: str) -> str:
    """The origin the paths (which carry /v1) are appended to; a trailing /v1 is accepted and dropped."""
    url = url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"BASE_URL must start with http:// or https://, got {url!r}")
    return url


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[v6]:PORT`, or just `PORT` for 127.0.0.1) where the webhook receiver listens."""
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"WEBHOOK_LISTEN must be HOST:PORT, e.g. 0.0.0.0:9000; got {text!r}")
    return host, int(port)


@dataclass
class Settings:
    """Everything one conformance run is told."""

    base_url: str
    token: str
    readonly_token: str | None = None
    other_token: str | None = None
    nostripe_token: str | None = None
    revoked_token: str | None = None
    rate_limit_token: str | None = None
    member_id: str | None = None
    # Where the suite listens for webhooks the operator registered ("HOST:PORT"), and their secret.
    webhook_listen: str | None = None
    webhook_secret: str | None = None
    webhook_wait_s: float = 30.0
    profile: str = "full"
    max_examples: int = 8
    areas: tuple[str, ...] = AREAS
    report_dir: Path = Path("reports/conformance")
    spec: Path = DEFAULT_SPEC
    use_control: bool = True
    timeout_s: float = 10.0
    max_requests: int = 5000
    max_time_s: float = 900.0
    generated_max_time_s: float = 120.0
    workers: int = 1
    seed: int | None = None
    only: tuple[str, ...] = ()
    generated_phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful")
    quiet: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = normalize_base_url(self.base_url)
        if self.profile not in PROFILES:
            raise ValueError(f"PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        unknown = [a for a in self.areas if a not in AREAS]
        if unknown:
            raise ValueError(f"unknown area(s) {', '.join(unknown)}; choose from {', '.join(AREAS)}")
        unknown_phases = set(self.generated_phases) - {"examples", "coverage", "fuzzing", "stateful"}
        if unknown_phases:
            raise ValueError(f"unknown Schemathesis phase(s) {', '.join(sorted(unknown_phases))}")
        if self.webhook_listen is not None:
            parse_listen(self.webhook_listen)
            if not self.webhook_secret:
                raise ValueError("WEBHOOK_LISTEN needs WEBHOOK_SECRET, the whsec_… secret of the endpoint registered for it")
        if not self.token:
            raise ValueError("TOKEN is required (a read+write token of the workspace under test; read-only is enough with PROFILE=safe)")

    @property
    def safe(self) -> bool:
        return self.profile == "safe"
