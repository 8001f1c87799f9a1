"""Online learning in high dimensions: the local-field engine (any rule's order-parameter ODEs and its
simulation at finite d), and the models on it: soft committee machines, the classic perceptron rules,
the RL perceptron, curriculum learning, label attacks, curricula on the XOR mixture, and a user's own rule."""
from hild.core import lazy
from hild.families.online.committee import Committee
from hild.families.online.curriculum import Curriculum
from hild.families.online.custom import OnlineRule
from hild.families.online.label_attack import LabelAttack
from hild.families.online.perceptron import Perceptron
from hild.families.online.rl_perceptron import RLPerceptron
from hild.families.online.xor_curriculum import XorCurriculum

__getattr__, __dir__ = lazy.attach(__name__, {".ode": ["generalisation_error"], ".simulate": ["simulate"],
                                              ".theory": ["linear_closed_form", "theory", "theory_batch"],
                                              ".inputs": ["Inputs"], ".rule": ["Rule"],
                                              ".local_field": ["LocalField"]})

__all__ = ["Committee", "Curriculum", "Inputs", "LabelAttack", "LocalField", "OnlineRule", "Perceptron", "RLPerceptron",
           "Rule", "XorCurriculum", "generalisation_error", "linear_closed_form", "simulate", "theory", "theory_batch"]
