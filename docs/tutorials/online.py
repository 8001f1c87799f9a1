# %% [markdown]
# # Online learning from any update rule
#
# Every online model of `hild.online` is a rule for the update w <- w + (phi / sqrt(d)) x, phi a function of
# the local fields lambda = w.x / sqrt(d) and nu = w*.x / sqrt(d). Write the rule, or a loss whose gradient JAX
# takes, and hild derives the order-parameter ODEs, integrates them and runs the same rule at finite d. Here:
# the logistic perceptron learning a sign teacher.

# %%
import jax.numpy as jnp

import hild
from hild.online import OnlineRule


def loss(lam, nu, c, aux, theta, p):
    """The logistic loss of the student's field lam against the teacher's sign."""
    return jnp.sum(jnp.logaddexp(0.0, -jnp.sign(nu[:, 0]) * lam[:, 0]))


rule = OnlineRule(loss=loss, lr=1.0, splits=(1,))   # the rule jumps where nu_0 = 0: integrate each side
theory = rule.theory(t_max=5)
sim = rule.simulate(d=500, seeds=4, t_max=5)
print(hild.compare(theory, sim))
print("cubature error of the derived ODEs:", theory.attrs["cubature_error"])

# %%
rule.figure(theory, sim);

# %% [markdown]
# ## The classic rules in closed form
#
# `Perceptron(algorithm=...)` has Hebb, perceptron, AdaTron and hinge in closed form and logistic by cubature;
# the generalisation error of AdaTron decays like 1/t (Engel & Van den Broeck, ch. 9).

# %%
from hild.online import Perceptron

adatron = Perceptron(algorithm="adatron", lr=1.5).theory(t_max=200, n_points=5)
print(adatron.eg.to_series())
