# %% [markdown]
# # The first hour with hild
#
# A scenario, its theory and its simulation, their comparison, a sweep and a figure: the whole loop on the
# soft committee machine of Saad & Solla (PRL 74, 4337 (1995)), at small sizes so that it runs in seconds.
# This page is a notebook kept as a plain Python file (jupytext percent format) and executed when the
# documentation is built.

# %%
import hild

models = hild.models()
print(len(models), "models, e.g.", ", ".join(list(models)[:6]))

# %% [markdown]
# ## A scenario
#
# A scenario fixes every parameter of one model and is validated when it is built: a bad value raises a
# `ValueError` naming the parameter and what is allowed.

# %%
scenario = hild.online.Committee(K=2, M=2, activation="erf", lr=0.5)
try:
    hild.online.Committee(K=2, M=2, activation="erf", lr=-1.0)
except ValueError as e:
    print(e)

# %% [markdown]
# ## Theory and simulation on the same variables
#
# `simulate` runs online SGD at dimension d for several seeds in one compiled call; `theory` integrates the
# order-parameter ODEs, here from each seed's own initial overlaps (`init=sim`), so that the two can be
# compared seed by seed.

# %%
sim = scenario.simulate(d=200, seeds=2, t_max=40)
theory = scenario.theory(t_max=40, init=sim)
print(sorted(v for v in sim.data_vars if v in theory.data_vars)[:8])
print(hild.compare(theory, sim))

# %% [markdown]
# ## A figure
#
# Every scenario draws its standard figure: theory lines over the simulation's seed mean and spread.

# %%
scenario.figure(theory, sim);

# %% [markdown]
# ## A sweep
#
# A theory sweep over a grid of learning rates runs as one batched, compiled ODE integration.

# %%
from hild.sweep import Grid, parse_axis, theory_sweep

grid = Grid("committee", (parse_axis("lr=0.2:1.2:4"),), fixed={"K": 2, "M": 2})
swept = theory_sweep(grid, t_max=40)
print(swept.eg.isel(t=-1).to_series())

# %% [markdown]
# ## A claim
#
# The papers' statements are claims: `hild reproduce NAME` (or `hild.reproduce`) runs them and says, with
# numbers, whether they hold; `hild claims` lists them and [the atlas](../atlas.html) shows them all.

# %%
print(len(hild.claims.all_claims()), "claims, e.g.", hild.claims.get("committee.plateau").statement[:90], "...")
