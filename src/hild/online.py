"""Online SGD in teacher-student soft committee machines (moved to `hild.families.online`; this name is kept for earlier scripts)."""
from hild.families.online import *  # noqa: F401,F403
from hild.families.online import __all__  # noqa: F401
