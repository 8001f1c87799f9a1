# %% [markdown]
# # Implicit biases of SGD
#
# The optimiser shapes what is learnt. Two exact results of `hild.implicit` against SGD itself.
#
# ## Stochastic collapse
#
# With per-sample loss -xi theta^2 / 2 + theta^4 / 4, xi ~ N(m, s^2), SGD collapses onto theta = 0 exactly where
# E ln|1 + lr xi| < 0 (Chen et al., arXiv 2306.04251): a window of learning rates.

# %%
import hild
from hild.implicit import LinearRegressionSGD, StochasticCollapse, collapse_window

print("collapse window for m = 0.25, s = 2:", collapse_window(0.25, 2.0))
collapse = StochasticCollapse(m=0.25, s=2.0, lr=0.3)
theory = collapse.theory(steps=400, every=10)
sim = collapse.simulate(steps=400, seeds=64, every=10)
print("Lyapunov exponent per step:", float(theory.lyapunov), " SDE rate:", float(theory.sde_rate))
print("collapsed runs:", int(sim.collapsed.sum()), "of", sim.sizes["seed"])
print(hild.compare(theory, sim))

# %%
collapse.figure(theory, sim);

# %% [markdown]
# ## The stationary covariance of minibatch SGD
#
# On least squares the minibatch noise depends on the iterate: the exact stationary covariance differs from the
# Lyapunov solution with the noise frozen at the minimum (Kunin et al., arXiv 2107.09133).

# %%
sgd = LinearRegressionSGD.gaussian(n=32, d=4, lr=0.1, batch=4)
exact = sgd.theory(max_lag=100, n_lags=8)
run = sgd.simulate(steps=20000, seeds=8, burn_in=2000, max_lag=100, n_lags=8)
print("tr S exact:", float(exact.trace), " frozen noise:", float(exact.trace_frozen),
      " simulated:", float(run.trace.mean()))
