# %% [markdown]
# # Full-batch learning: replica fixed points against empirical risk minimisation
#
# `hild.batch` solves the replica-symmetric fixed point of a generalised linear model trained on n = alpha d
# samples (any convex loss, any covariance spectrum) and minimises the real empirical risk at finite d, on the
# same variables: m = w.w* / d, q = |w|^2 / d and the test error eg.

# %%
import numpy as np

import hild
from hild.batch import Classification, Ridge, gardner_capacity

ridge = Ridge(alpha=2.0, lam=0.1, noise=0.5)
theory = ridge.theory()
sim = ridge.simulate(d=200, seeds=4)
print({v: round(float(theory[v]), 4) for v in ("m", "q", "eg")}, "converged:", bool(theory.converged))
print(hild.compare(theory, sim))

# %% [markdown]
# ## Double descent, from one batched call
#
# `theory_batch` solves many points in one compiled call (with continuation along alpha on a grid). At a small
# ridge the test error diverges at the interpolation threshold alpha = 1.

# %%
alphas = np.geomspace(0.2, 5, 15)
curve = Ridge.theory_batch([Ridge(alpha=a, lam=1e-3, noise=0.5) for a in alphas])
for a, e in zip(alphas, curve.eg.values):
    print(f"alpha = {a:5.2f}   eg = {e:8.4f}")

# %% [markdown]
# ## Logistic regression on a sign teacher, and the perceptron's capacity

# %%
logistic = Classification(loss="logistic", alpha=2.0, lam=0.1)
print("fixed point eg:", float(logistic.theory().eg), " ERM at d = 200:", float(logistic.simulate(d=200, seeds=2).eg.mean()))
print("Gardner capacity alpha_c(0) =", gardner_capacity(0.0), " alpha_c(1) =", round(gardner_capacity(1.0), 6))
