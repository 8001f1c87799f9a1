"""Executors of sweep tasks (moved to `hild.sweep.executors`; this name is kept for earlier scripts)."""
from hild.sweep.executors import *  # noqa: F401,F403
from hild.sweep.executors import __all__  # noqa: F401
