"""Test-wide set-up: the helpers in tests/support/ (the live-mock launcher) import from any test directory."""
import sys
from pathlib import Path

# tests/ is not a package (a tests/conformance package would shadow the real `conformance`), so the
# shared helpers are put on the path once here rather than loaded by file path in each directory.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
