"""Learning from higher-order cumulants (moved to `hild.families.cumulants`; this name is kept for earlier scripts)."""
from hild.families.cumulants import *  # noqa: F401,F403
from hild.families.cumulants import __all__  # noqa: F401
