"""`make sdk` (python -m tools.sdk) end to end, and what it says on a machine without Node.js."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools import sdk


def test_without_node_the_python_client_is_made_and_the_missing_tools_are_named(tmp_path):
    # A PATH with the virtualenv's tools but no node or npm.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([sys.executable, "-m", "tools.sdk", "--out", str(tmp_path)], cwd=sdk.ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Node.js (>= 18) and npm are needed for the TypeScript half" in done.stderr
    assert "the Python client was generated; the TypeScript types were not" in done.stderr
    assert (tmp_path / "python" / sdk.PYTHON_PACKAGE / "api" / "bookings" / "create_booking.py").is_file()
    assert not (tmp_path / "typescript").exists()
