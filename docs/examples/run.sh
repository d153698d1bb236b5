#!/usr/bin/env bash
# Runs the docs page's four curl examples against the mock, in the order a booking lives:
# create → (the payer pays) → list → update → cancel. Each *.curl file here is the docs' example
# with real ids (README.md in this folder lists every difference); when running one, this script
# changes only the host (https://api.litehq.com → BASE_URL) and the token (sk_live_... → TOKEN).
#
#   make mock MOCK_ARGS="--seed docs-300611"     # one shell: ids are reproducible with this seed
#   docs/examples/run.sh [BASE_URL] [TOKEN]      # another (defaults http://127.0.0.1:8080, sk_test_demo_rw)
#
# It drives the mock's control API (/_mock) around the examples: reset, clock at the docs' date
# (2026-05-22T08:41Z, so their 2026-05-23 slot is in the future), the payer's checkout; the clock is
# set back to where it was on exit. Each response goes to stdout, one JSON document per line.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
base="${1:-${LITEHQ_BASE_URL:-http://127.0.0.1:8080}}"
base="${base%/}"
base="${base%/v1}"
token="${2:-${LITEHQ_API_KEY:-sk_test_demo_rw}}"
docs_now="2026-05-22T08:41:00Z"  # the docs' create response says expires_at 09:11 = now + 30-min window
booking_id="bk_7WqGKpikwOhptqTf"  # the first booking id of a mock started with --seed docs-300611
seed_hint='start the mock with --seed docs-300611 (make mock MOCK_ARGS="--seed docs-300611")'

control() {  # METHOD PATH [JSON]: the mock's control API
  if [ $# -ge 3 ]; then
    curl -sS --fail-with-body --max-time 10 -X "$1" "$base/_mock$2" -H 'Content-Type: application/json' -d "$3"
  else
    curl -sS --fail-with-body --max-time 10 -X "$1" "$base/_mock$2"
  fi
}

example() {  # FILE: run one docs example with only host and token substituted; print its response
  local name="$1" response log
  log="$(mktemp)"
  echo "== $name" >&2
  if ! response="$(sed -e "s#https://api\.litehq\.com#${base}#g" -e "s#sk_live_\.\.\.#${token}#g" "$here/$name" | bash 2>"$log")"; then
    cat "$log" >&2
    rm -f "$log"
    echo "run.sh: $name failed (is the mock running at $base?)" >&2
    return 1
  fi
  rm -f "$log"
  case "$response" in
    '{"error":'*) echo "$response" >&2; echo "run.sh: $name answered an error" >&2; return 1 ;;
  esac
  printf '%s\n' "$response"
}

if ! saved="$(control GET /clock)"; then
  echo "run.sh: no mock control API at $base/_mock — these examples run against the mock (make mock)" >&2
  exit 2
fi
saved_now="$(printf '%s' "$saved" | sed -n 's/.*"now":"\([^"]*\)".*/\1/p')"
saved_frozen="$(printf '%s' "$saved" | sed -n 's/.*"frozen":\(true\|false\).*/\1/p')"
restore_clock() { control PUT /clock "{\"now\": \"$saved_now\", \"frozen\": ${saved_frozen:-false}}" >/dev/null || true; }
trap restore_clock EXIT

control POST /reset >/dev/null
control PUT /clock "{\"now\": \"$docs_now\", \"frozen\": true}" >/dev/null

created="$(example create_booking.curl)"
case "$created" in
  *"\"id\":\"$booking_id\""*) printf '%s\n' "$created" ;;
  *) echo "run.sh: create_booking.curl made another booking id than $booking_id: $seed_hint" >&2; exit 1 ;;
esac
echo "== (the payer completes Stripe Checkout: POST /_mock/bookings/$booking_id/checkout/complete)" >&2
control POST "/bookings/$booking_id/checkout/complete" >/dev/null
example list_bookings.curl
example update_booking.curl
example cancel_booking.curl
echo "== all four examples ran against $base" >&2
