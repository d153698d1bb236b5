"""The scenario areas, one module each, in the order the suite runs them."""
from __future__ import annotations

from conformance.scenario import Scenario, collect
from conformance.scenarios import auth, availability, errors, idempotency, lifecycle, pagination, rate_limits, webhooks

MODULES = {m.AREA: m for m in (errors, auth, pagination, idempotency, rate_limits, lifecycle, availability, webhooks)}


def scenarios_of(area: str) -> list[Scenario]:
    return collect(MODULES[area])
