"""Linear diffusion models (moved to `hild.families.diffusion`; this name is kept for earlier scripts)."""
from hild.families.diffusion import *  # noqa: F401,F403
from hild.families.diffusion import __all__  # noqa: F401
