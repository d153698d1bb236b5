"""What a run found: per test an outcome, per area a tally, and for each failure the evidence a person needs."""
from __future__ import annotations

from dataclasses import dataclass, field

from conformance.http import Exchange

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"


@dataclass
class Evidence:
    """One broken rule with the request that showed it and what came back."""

    rule: str
    message: str
    request: str = ""
    response: str = ""
    request_id: str | None = None

    @classmethod
    def from_exchange(cls, rule: str, message: str, exchange: Exchange | None) -> Evidence:
        if exchange is None:
            return cls(rule, message)
        text = exchange.describe()
        request, _, response = text.partition("\nresponse:\n")
        return cls(rule, message, request.removeprefix("request:\n"), response, exchange.request_id)


@dataclass
class Outcome:
    """How one scenario (or one generated operation) fared."""

    area: str
    name: str
    rule: str
    status: str
    reason: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    duration_s: float = 0.0


@dataclass
class AreaResult:
    """The outcomes of one area, in the order they ran."""

    area: str
    outcomes: list[Outcome] = field(default_factory=list)
    duration_s: float = 0.0
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return any(o.status in (FAILED, ERROR) for o in self.outcomes)


@dataclass
class RunResult:
    """The verdict of one run."""

    base_url: str
    profile: str
    areas: list[AreaResult] = field(default_factory=list)
    started_at: str = ""
    duration_s: float = 0.0
    requests: int = 0
    aborted: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.aborted is None and not any(a.failed for a in self.areas)

    @property
    def exit_code(self) -> int:
        if self.aborted is not None:
            return 2
        return 0 if self.passed else 1
