"""Parameter checks (moved to `hild.core.validation`; this name is kept for earlier scripts)."""
from hild.core.validation import *  # noqa: F401,F403
from hild.core.validation import __all__  # noqa: F401
