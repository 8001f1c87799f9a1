"""Sweep stores (moved to `hild.sweep.store`; this name is kept for earlier scripts)."""
from hild.sweep.store import *  # noqa: F401,F403
from hild.sweep.store import __all__  # noqa: F401
