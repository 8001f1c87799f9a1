"""In-context learning of linear regression (arXiv 2306.15063, 2405.11751): the public names of `hild.families.icl`."""
from hild.families.icl import *  # noqa: F401,F403
from hild.families.icl import __all__  # noqa: F401
