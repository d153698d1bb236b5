"""Where the mock's time goes under load: py-spy records it while wrk drives one endpoint (`make bench-profile`).

Starts the mock as `make bench` does (one process, `--rate-limit off`, quiet), fills the store with
the same bookings, then samples it with py-spy for the length of one wrk run of bench/wrk/<endpoint>.lua
and writes a flame graph (SVG) plus the raw collapsed stacks, and prints the functions with the most
inclusive time. Loopback only; the run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare  # noqa: E402  (the bench's own helpers: free port, start, seed, wrk)

ROOT = compare.ROOT
OUT = ROOT / "reports" / "profile"


def top_functions(collapsed: Path, root: str = "RequestFrame.__call__", limit: int = 30) -> list[tuple[float, str]]:
    """Inclusive share of each function among the samples that are inside a request."""
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f.strip()) for f in stack.split(";")]
        start = next((i for i, f in enumerate(frames) if f.startswith(root)), None)
        if start is None:
            continue
        total += int(count)
        for frame in set(frames[start:]):
            counts[frame] += int(count)
    return [(100.0 * n / total, f) for f, n in counts.most_common(limit)] if total else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=["list", "create"], default="list")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load and sampling (default 15)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    parser.add_argument("--seed-bookings", type=int, default=2000)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is missing: make bench-profile installs it")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (make bench-profile does this)")
    OUT.mkdir(parents=True, exist_ok=True)
    port = compare.free_port()
    mock = compare.start_ours(port)
    url = f"http://127.0.0.1:{port}"
    try:
        compare.seed_bookings(url, args.seed_bookings)
        outputs = {"flamegraph": OUT / f"{args.endpoint}.svg", "raw": OUT / f"{args.endpoint}.collapsed"}
        spies = [
            subprocess.Popen([py_spy, "record", "--pid", str(mock.pid), "--duration", str(args.duration), "--rate", str(args.rate),
                              "--nonblocking", "--format", fmt, "--output", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for fmt, path in outputs.items()
        ]
        time.sleep(0.5)
        script = compare.BENCH / "wrk" / f"{args.endpoint}.lua"
        wrk = subprocess.run(["wrk", "-t2", "-c32", f"-d{args.duration}s", "-s", str(script), url, "--", "9"],
                             capture_output=True, text=True, timeout=args.duration + 60)
        for spy in spies:
            spy.wait(timeout=args.duration + 60)
    finally:
        compare.stop(mock)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout)
    print(f"{args.endpoint}: {float(rps.group(1)) if rps else 0:,.0f} req/s under py-spy (sampling slows the server)")
    for share, frame in top_functions(outputs["raw"]):
        print(f"{share:5.1f}%  {frame}")
    print(f"\nflame graph: {outputs['flamegraph'].relative_to(ROOT)}; stacks: {outputs['raw'].relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
