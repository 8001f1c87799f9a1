"""Deep linear networks (moved to `hild.families.deep_linear`; this name is kept for earlier scripts)."""
from hild.families.deep_linear import *  # noqa: F401,F403
from hild.families.deep_linear import __all__  # noqa: F401
