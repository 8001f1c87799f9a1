"""Full-batch learning in high dimensions (`hild.families.batch`): replica fixed points of generalised linear
models and random features against empirical risk minimisation at finite d."""
from hild.families.batch import *  # noqa: F401,F403
from hild.families.batch import __all__  # noqa: F401
