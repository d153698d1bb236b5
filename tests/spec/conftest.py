"""Shared fixtures for the contract tests: the bundled document, loaded once."""
import pytest

from tools.spec import bundle


@pytest.fixture(scope="session")
def contract() -> dict:
    return bundle()
