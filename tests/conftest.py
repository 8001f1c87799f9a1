"""Shared fixtures: each claim runs once per test session at quick size, whichever tests read it."""
import pytest

import hild

_QUICK: dict = {}


@pytest.fixture(scope="session")
def quick_claim():
    """`quick_claim(name)`: the ClaimResult of hild.reproduce(name, size="quick"), computed once per session."""
    def run(name: str):
        if name not in _QUICK:
            _QUICK[name] = hild.reproduce(name, size="quick")
        return _QUICK[name]
    return run
