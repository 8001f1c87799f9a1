"""Signal propagation in random transformers (moved to `hild.families.signal_prop`; this name is kept for earlier scripts)."""
from hild.families.signal_prop import *  # noqa: F401,F403
from hild.families.signal_prop import __all__  # noqa: F401
