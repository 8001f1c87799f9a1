"""Theory against simulation (moved to `hild.analysis.compare`; this name is kept for earlier scripts)."""
from hild.analysis.compare import *  # noqa: F401,F403
from hild.analysis.compare import __all__  # noqa: F401
