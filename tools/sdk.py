"""`make sdk`: clients from the bundled contract, the way an SDK author would make them.

* Python — `openapi-python-client` (pinned in requirements.txt) turns `dist/openapi.json` into the
  project `build/sdk/python/` (package `litehq_calendar`), with `--fail-on-warning`.
* TypeScript — `openapi-typescript` (pinned in sdk/package.json + package-lock.json, installed with
  `npm ci`) writes `build/sdk/typescript/litehq-calendar.d.ts`; then `tsc --noEmit --strict`
  (pinned typescript) checks `sdk/typescript/usage.ts`, a small client written against those types.

Generation is *clean* only if neither generator says anything about our document: any warning is a
failure here, so the contract gets fixed rather than the output patched. The Python half needs only
the virtualenv; the TypeScript half needs Node.js and npm, and says so plainly when they are missing.
The tests in tests/sdk/ call the same functions.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "openapi.json"
SDK_DIR = ROOT / "sdk"
OUT = ROOT / "build" / "sdk"
PYTHON_CONFIG = SDK_DIR / "openapi-python-client.yaml"
PYTHON_PACKAGE = "litehq_calendar"
TYPES_MODULE = "@litehq/calendar-types"
TYPES_FILE = "litehq-calendar.d.ts"
USAGE_TS = SDK_DIR / "typescript" / "usage.ts"
NODE_HINT = (
    "Node.js (>= 18) and npm are needed for the TypeScript half of `make sdk` (openapi-typescript, tsc): "
    "install them (Debian: apt-get install nodejs npm) and run it again."
)
# openapi-python-client reports problems with the document as "Warning(s) encountered while
# generating"; openapi-typescript prints Redocly's lint problems with "⚠" or "warn".
_WARNING = re.compile(r"warning|⚠|\bwarn\b", re.IGNORECASE)


class SdkError(Exception):
    """Generation or the type check failed; the message carries the tool's own output."""


class NodeMissing(SdkError):
    """Node.js or npm is not on PATH."""


def _run(argv: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SdkError(f"{Path(argv[0]).name} did not finish within {timeout:.0f}s") from exc
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise SdkError(f"{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(argv))} exited {done.returncode}:\n{output}")
    return output


def _warnings(output: str) -> list[str]:
    return [line for line in output.splitlines() if _WARNING.search(line)]


def generate_python(out_dir: Path = OUT / "python", bundle: Path = BUNDLE) -> Path:
    """Generate the Python client project into out_dir (replaced); return the directory to put on sys.path."""
    bin_dir = Path(sys.executable).parent
    tool = bin_dir / "openapi-python-client"
    if not tool.exists():
        raise SdkError(f"{tool} not found: run `make venv` (openapi-python-client is pinned in requirements.txt)")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Its post-generation hooks run `ruff` (a dependency of the generator) from PATH.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1", "TERM": "dumb"}
    output = _run([str(tool), "generate", "--path", str(bundle), "--output-path", str(out_dir),
                   "--config", str(PYTHON_CONFIG), "--fail-on-warning"], env=env)
    if found := _warnings(output):
        raise SdkError("openapi-python-client warned about the document:\n" + "\n".join(found) + f"\n\n{output}")
    if not (out_dir / PYTHON_PACKAGE / "__init__.py").is_file():
        raise SdkError(f"openapi-python-client wrote no {PYTHON_PACKAGE} package into {out_dir}:\n{output}")
    return out_dir


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def npm_install(package_dir: Path, bins: tuple[str, ...]) -> Path:
    """package_dir/node_modules/.bin, after `npm ci` if its lock file changed since the last install."""
    if not node_available():
        raise NodeMissing(NODE_HINT)
    lock = package_dir / "package-lock.json"
    stamp = package_dir / "node_modules" / ".litehq-lock-sha1"
    digest = hashlib.sha1(lock.read_bytes()).hexdigest()
    bin_dir = package_dir / "node_modules" / ".bin"
    installed = stamp.is_file() and stamp.read_text().strip() == digest
    if not (installed and all((bin_dir / name).exists() for name in bins)):
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=package_dir, timeout=300)
        stamp.write_text(digest + "\n")
    return bin_dir


def node_tools() -> Path:
    """sdk/node_modules/.bin with openapi-typescript and tsc."""
    return npm_install(SDK_DIR, ("openapi-typescript", "tsc"))


def generate_typescript(out_dir: Path = OUT / "typescript", bundle: Path = BUNDLE) -> Path:
    """Write the TypeScript types for the contract; return the .d.ts file."""
    bin_dir = node_tools()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / TYPES_FILE
    target.unlink(missing_ok=True)
    # --default-non-nullable=false: by default openapi-typescript makes every property with a
    # `default` required, and components are shared between requests and responses, so a cancel
    # body would need all three fields and a create body `attendees`. Responses are unaffected:
    # the contract lists every response field in `required` explicitly.
    output = _run([str(bin_dir / "openapi-typescript"), str(bundle), "--output", str(target), "--default-non-nullable=false"],
                  # From sdk/: at the root it would read redocly.yaml, which names two APIs.
                  cwd=SDK_DIR, env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"})
    if found := _warnings(output):
        raise SdkError("openapi-typescript warned about the document:\n" + "\n".join(found))
    if not target.is_file():
        raise SdkError(f"openapi-typescript wrote nothing to {target}:\n{output}")
    return target


def typecheck(types_file: Path, work_dir: Path, sources: list[Path] | None = None) -> str:
    """`tsc --noEmit --strict` over sources (default: sdk/typescript/usage.ts) against types_file."""
    bin_dir = node_tools()
    work_dir.mkdir(parents=True, exist_ok=True)
    config = work_dir / "tsconfig.json"
    config.write_text(json.dumps({
        "extends": str(SDK_DIR / "tsconfig.json"),
        "compilerOptions": {"paths": {TYPES_MODULE: [str(types_file)]}},
        "files": [str(path) for path in (sources or [USAGE_TS])],
    }, indent=2) + "\n")
    return _run([str(bin_dir / "tsc"), "--project", str(config), "--noEmit", "--strict", "--pretty", "false"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sdk", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    started = time.monotonic()
    try:
        python_dir = generate_python(out / "python")
        print(f"python:     {python_dir / PYTHON_PACKAGE}  (openapi-python-client, no warnings)")
        types_file = generate_typescript(out / "typescript")
        print(f"typescript: {types_file}  (openapi-typescript, no warnings)")
        typecheck(types_file, out / "typescript")
        print(f"tsc --noEmit --strict: {USAGE_TS.relative_to(ROOT)} type-checks against them")
    except NodeMissing as exc:
        print(f"sdk: {exc}\nsdk: the Python client was generated; the TypeScript types were not.", file=sys.stderr)
        return 1
    except SdkError as exc:
        print(f"sdk: {exc}", file=sys.stderr)
        return 1
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
