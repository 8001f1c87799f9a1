# %% [markdown]
# # In-context learning of linear regression
#
# With tasks drawn from a pool of M, the Bayes estimator of the pool (dMMSE) beats ridge on pool tasks but
# fails on new ones until the pool is diverse enough (Raventós et al., arXiv 2306.15063). `hild.icl` computes
# both estimators per context position, and the exact linear-attention model of the same setting (Lu et al.,
# arXiv 2405.11751).

# %%
import numpy as np

import hild
from hild.icl import LinearAttention, TaskDiversity

for M in (1, 16, 256):
    th = TaskDiversity(d=4, K=8, M=M).theory(samples=1024)
    last = th.isel(k=-1)
    print(f"M = {M:4d}: new tasks dMMSE {float(last.mse_dmmse.sel(tasks='new')):.3f} "
          f"vs ridge {float(last.mse_ridge.sel(tasks='new')):.3f}; "
          f"pool tasks dMMSE {float(last.mse_dmmse.sel(tasks='pool')):.3f}")

# %% [markdown]
# ## Linear attention: the task-diversity transition and pretraining double descent
#
# The d -> infinity ICL error on new tasks (derived in hild by Gaussian equivalence) falls with the number of
# pool tasks per dimension kappa, with a kink at kappa = 1 in the limit of long contexts and unlimited
# pretraining; at finite d the exact solution follows it.

# %%
kappas = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
curve = LinearAttention.theory_batch([LinearAttention(alpha=4.0, kappa=k, tau=4.0, ridge=0.01) for k in kappas])
print(dict(zip(kappas, np.round(curve.e_icl.values, 3))))
point = LinearAttention(alpha=4.0, kappa=2.0, tau=4.0, ridge=0.01)
print(hild.compare(point.theory(), point.simulate(d=8, seeds=2)))
