"""Side-by-side load test of our mock and Prism on the same bundled spec (`make bench`)."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PRISM = BENCH / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "dist" / "openapi.json"
RESULTS = BENCH / "results.md"
SCRIPTS = {"GET list": BENCH / "wrk" / "list.lua", "POST create": BENCH / "wrk" / "create.lua"}


@dataclass
class Sample:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(*processes: subprocess.Popen) -> None:
    """Interrupt servers as Ctrl-C would, all at once, then kill whichever outlives 10 s."""
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def start_ours(port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1", "--port", str(port), "--rate-limit", "off"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_serving(f"http://127.0.0.1:{port}/v1/rooms", process)
    return process


def start_prism(port: int) -> subprocess.Popen:
    command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "--verboseLevel", "warn", str(SPEC)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_serving(f"http://127.0.0.1:{port}/v1/rooms", process)
    return process


def seed_bookings(base_url: str, count: int) -> None:
    """Fill our mock's store through the API so the list endpoint pages through real data."""
    start = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.timezone.utc)
    headers = {"Authorization": "Bearer sk_test_demo_rw"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10.0) as client:
        for index in range(count):
            day, slot = divmod(index, 28)
            begin = start + dt.timedelta(days=day, minutes=30 * slot)
            body = {
                "room_id": "rm_studio",
                "start_at": begin.isoformat().replace("+00:00", "Z"),
                "end_at": (begin + dt.timedelta(minutes=30)).isoformat().replace("+00:00", "Z"),
                "booked_by": {"member_id": "mem_alice"},
            }
            response = client.post("/v1/bookings", json=body, headers={"Idempotency-Key": f"seed-{index}"})
            if response.status_code != 201:
                raise SystemExit(f"seeding failed at booking {index}: {response.status_code} {response.text[:200]}")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(base_url: str, script: Path, args: argparse.Namespace, run_index: int) -> Sample:
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
        "-s", str(script), base_url, "--", str(run_index),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=args.duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Sample(rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0)


def median_sample(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.requests_per_second for s in samples),
        statistics.median(s.p50_ms for s in samples),
        statistics.median(s.p99_ms for s in samples),
        sum(s.non_2xx for s in samples),
    )


def render(results: dict[str, dict[str, Sample]], args: argparse.Namespace) -> str:
    lines = [
        "| endpoint | server | req/s | p50 ms | p99 ms | non-2xx | ours / Prism |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for endpoint, by_server in results.items():
        ratio = by_server["ours"].requests_per_second / by_server["prism"].requests_per_second
        for server in ("ours", "prism"):
            s = by_server[server]
            shown_ratio = f"**{ratio:.2f}**" if server == "ours" else ""
            lines.append(
                f"| {endpoint} | {server} | {s.requests_per_second:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} "
                f"| {s.non_2xx} | {shown_ratio} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the table shows medians")
    parser.add_argument("--seed-bookings", type=int, default=2000, help="bookings in our store before the list runs")
    parser.add_argument("--no-write", action="store_true", help="print the table without updating bench/results.md")
    args = parser.parse_args()
    for tool, hint in (("wrk", "apt-get install -y wrk"), (str(PRISM), "cd bench && npm ci")):
        if not shutil.which(tool) and not Path(tool).exists():
            raise SystemExit(f"{tool} is missing: {hint} (make bench does this)")

    load_before = os.getloadavg()[0]
    ours_port, prism_port = free_port(), free_port()
    processes = [start_ours(ours_port), start_prism(prism_port)]
    try:
        ours_url, prism_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{prism_port}"
        seed_bookings(ours_url, args.seed_bookings)
        samples: dict[str, dict[str, list[Sample]]] = {e: {"ours": [], "prism": []} for e in SCRIPTS}
        for round_index in range(args.rounds):
            # Interleave servers within each round so machine noise hits both alike.
            for endpoint, script in SCRIPTS.items():
                for server, url in (("ours", ours_url), ("prism", prism_url)):
                    sample = run_wrk(url, script, args, round_index)
                    samples[endpoint][server].append(sample)
                    print(f"round {round_index + 1}/{args.rounds} {endpoint:<11} {server:<5} "
                          f"{sample.requests_per_second:>8,.0f} req/s  p99 {sample.p99_ms:.1f} ms", flush=True)
        results = {e: {s: median_sample(v) for s, v in by.items()} for e, by in samples.items()}
    finally:
        stop(*processes)
    load_after = os.getloadavg()[0]
    table = render(results, args)
    print()
    print(table)
    failures = [f"{server} {endpoint}: {sample.non_2xx} non-2xx" for endpoint, by in results.items()
                for server, sample in by.items() if sample.non_2xx]
    if failures:
        # Error responses are cheaper than real work: a run with any is not a measurement of it.
        print("\nINVALID RUN — " + "; ".join(failures), file=sys.stderr)
    if not args.no_write and not failures:
        command = (f"make bench BENCH_ARGS='--duration {args.duration} --connections {args.connections} "
                   f"--threads {args.threads} --rounds {args.rounds}'")
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
        RESULTS.write_text(
            f"# Benchmark: our mock vs Prism\n\n"
            f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine}.\n\n"
            f"Command: `{command}` — wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
            f"median of {args.rounds} interleaved rounds, one process per server, quiet logs, loopback. "
            f"Our store holds {args.seed_bookings} bookings for the list run; every create is a new booking "
            f"on a free slot with a unique idempotency key. Load average (1 min) {load_before:.1f} before, "
            f"{load_after:.1f} after.\n\n{table}\n",
            encoding="utf-8",
        )
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
