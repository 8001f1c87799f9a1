# %% [markdown]
# # Linear diffusion models
#
# A DDPM whose noise predictor is linear at each diffusion step, trained on N Gaussian samples, is exactly
# solvable per eigenmode of the empirical covariance (Merger & Goldt, arXiv 2505.24769): the trained denoisers,
# the losses, the generated Gaussian law and its KL to the target. For N > d the expected KL follows a Wishart
# law, about d(d + 3) / 4N.

# %%
import hild
from hild.diffusion import LinearDiffusion

scenario = LinearDiffusion.example()       # d = 6, N = 12, one fixed training set
theory = scenario.theory()
sim = scenario.simulate(n_samples=4000)
print(hild.compare(theory, sim))
print("exact KL(generated || target):", theory.kl.values)

# %%
scenario.figure(theory, sim);
