"""The docs page's curl examples, kept in docs/examples/, run against a live mock with only host and
token substituted (docs/examples/run.sh) — and compared with the docs page itself where it is found."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
# The docs page this kit is built from, kept in the repository so every clone can compare with it.
DOCS_PAGE = ROOT / "docs" / "source" / "calendar-api-docs-page.txt"
SEED = "docs-300611"  # its first booking id is bk_7WqGKpikwOhptqTf, like the docs' "bk_7Wq..."
BOOKING_ID = "bk_7WqGKpikwOhptqTf"

# Every difference between docs/examples/*.curl and the docs page (also listed in docs/examples/README.md).
REAL_IDS = {
    "list_bookings.curl": [],
    "create_booking.curl": [("rm_4QkX...", "rm_studio"), ("mem_J7P...", "mem_alice"),
                            # The docs' `\\` ends the command before `-d`: a typo, fixed.
                            ("-4d6f-...-bc14' \\\\\n", "-4d6f-...-bc14' \\\n")],
    "update_booking.curl": [("bk_7Wq...", BOOKING_ID)],
    "cancel_booking.curl": [("bk_7Wq...", BOOKING_ID)],
}


def docs_block(name: str) -> str:
    """A code block of the docs page: the lines after its `name` and language lines, up to the next block or paragraph."""
    lines = DOCS_PAGE.read_text(encoding="utf-8").splitlines()
    start = lines.index(name) + 2
    block = []
    for line in lines[start:]:
        if line == "" or re.fullmatch(r"[a-z_]+\.(curl|node|python|response)", line):
            break
        block.append(line)
    return "\n".join(block) + "\n"


def test_curl_examples_are_the_docs_own_with_real_ids():
    assert sorted(p.name for p in EXAMPLES.glob("*.curl")) == sorted(REAL_IDS)
    for name, substitutions in REAL_IDS.items():
        expected = docs_block(name)
        for placeholder, real in substitutions:
            assert expected.count(placeholder) == 1, (name, placeholder)
            expected = expected.replace(placeholder, real)
        assert (EXAMPLES / name).read_text(encoding="utf-8") == expected, name


@pytest.fixture(scope="module")
def seeded_mock(start_mock):  # type: ignore[no-untyped-def]
    return start_mock("--seed", SEED)


def test_curl_examples_run_against_the_mock_with_only_host_and_token_substituted(shell_tools, seeded_mock):
    done = subprocess.run(["bash", str(EXAMPLES / "run.sh"), seeded_mock.url, "sk_test_demo_rw"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    created, listed, updated, cancelled = (json.loads(line) for line in done.stdout.splitlines())
    assert re.findall(r"^== (\S+)", done.stderr, re.MULTILINE) == [
        "create_booking.curl", "(the", "list_bookings.curl", "update_booking.curl", "cancel_booking.curl", "all"]

    # The create answers what the docs' create_booking.response shows, field for field, but for ids
    # and the checkout URL (the mock's own checkout page stands in for Stripe's).
    assert created["id"] == BOOKING_ID
    assert created["checkout_url"].startswith(f"{seeded_mock.url}/_mock/checkout/")
    assert created["room"] == {"id": "rm_studio", "name": "Studio"}
    if DOCS_PAGE.is_file():
        documented = json.loads(docs_block("create_booking.response"))
        assert {k: created[k] for k in documented if k not in ("id", "checkout_url", "room")} == {
            k: v for k, v in documented.items() if k not in ("id", "checkout_url", "room")}
        assert documented["room"]["name"] == created["room"]["name"]
    assert (created["status"], created["expires_at"], created["price"]) == (
        "pending_payment", "2026-05-22T09:11:00Z", {"currency": "GBP", "amount_minor": 8400})

    assert [(b["id"], b["status"]) for b in listed["data"]] == [(BOOKING_ID, "confirmed")]
    assert listed["next_cursor"] is None
    assert (updated["end_at"], updated["attendees"], updated["notes"]) == (
        "2026-05-23T16:00:00Z", 6, "Extended by 30 min — client running over.")
    assert [(c["kind"], c["amount"]["amount_minor"]) for c in updated["charges"]] == [("booking", 8400), ("delta", 2800)]
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["reason"] == "member_requested"
    assert cancelled["cancellation"]["refund"]["amount"] == {"currency": "GBP", "amount_minor": 11200}

    # run.sh put the clock back where it was (running, not at the docs' date).
    clock = httpx.get(f"{seeded_mock.url}/_mock/clock", timeout=5).json()
    assert clock["frozen"] is False and not clock["now"].startswith("2026-05-22")


def test_run_sh_explains_an_unseeded_mock(shell_tools, live_mock):
    done = subprocess.run(["bash", str(EXAMPLES / "run.sh"), live_mock.url], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert 'start the mock with --seed docs-300611 (make mock MOCK_ARGS="--seed docs-300611")' in done.stderr
