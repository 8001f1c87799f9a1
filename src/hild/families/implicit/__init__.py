"""Implicit biases of SGD: how the optimiser itself, not the loss, shapes what is learnt. Stochastic collapse to
invariant sets (arXiv 2306.04251: the 1D model's Lyapunov exponent, its collapse window and SDE limit) and the
limiting dynamics of minibatch SGD on least squares (arXiv 2107.09133: the exact stationary covariance with
iterate-dependent noise, momentum and weight decay, and the stationary mean squared displacement); the modified
flow of gradient descent (arXiv 2009.11162)."""
from hild.families.implicit.collapse import collapse_window, log_theta_runs, lyapunov, sde_rate
from hild.families.implicit.limiting import stationary
from hild.families.implicit.scenarios import COLLAPSED, LinearRegressionSGD, ModifiedFlow, StochasticCollapse

__all__ = ["COLLAPSED", "LinearRegressionSGD", "ModifiedFlow", "StochasticCollapse", "collapse_window",
           "log_theta_runs", "lyapunov", "sde_rate", "stationary"]
