"""Gaussian expectations (moved to `hild.core.gaussian`; this name is kept for earlier scripts)."""
from hild.core.gaussian import *  # noqa: F401,F403
from hild.core.gaussian import __all__  # noqa: F401
