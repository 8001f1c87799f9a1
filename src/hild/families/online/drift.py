"""The order-parameter ODEs of any local-field rule (hild.families.online.rule), and their integration.

The state is the overlaps of the students w_k with each other and with the fixed vectors f_j, block
by block: Q[b] = w^b w^b^T / d (B, K, K), S[b] = w^b f^b^T / d (B, K, F), and the readout theta (P,).
In component c the fields Y = (lam, nu) of an input have mean m = (S alpha_c, G alpha_c) and
covariance Sigma_c = sum_b Delta_cb Gamma_b, Gamma_b = [[Q_b, S_b], [S_b^T, G_b]] (S, G summed over
blocks). As d -> infinity, with the moments of hild.families.online.moments and
X^b = (lam^b, nu^b) the fields' block-b parts, which regress on Y as
E[phi_k X^b] = phi_k m^b + Delta_cb Gamma_b Sigma_c^+ phi_y[k]  (m^b = (S_b alpha_c, G_b alpha_c)):

    dS_b/dt = sum_c p_c(t) E_c[phi nu^b]                                            - decay S_b
    dQ_b/dt = sum_c p_c(t) (E_c[phi lam^b] + E_c[phi lam^b]^T + rho_b Delta_cb phiphi_c) - 2 decay Q_b
    dtheta/dt = sum_c p_c(t) psi_c

(Saad & Solla 1995 and Biehl & Schwarze 1995 for one block and one component; blocks: Saglietti et
al. arXiv 2106.08068; mixtures: Refinetti et al. arXiv 2102.11742.) `integrate` solves them with
diffrax (Tsit5, adaptive steps that stop at the schedule's breaks), a batch of scenarios in one
compiled call, stopping a run at its divergence.
"""
from __future__ import annotations

import numpy as np

from hild.core import lazy
from hild.families.online import moments as cubature_moments
from hild.families.online.inputs import probabilities
from hild.families.online.ode import solve_on_grid

diffrax = lazy.module("diffrax")
jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")

MAX_STEPS = 1_000_000
"""The solver's step budget per trajectory; a run that spends it is reported, not silently truncated."""


def field_statistics(state, inputs, c):
    """(mean (n,), covariance (n, n), block covariances Delta_cb Gamma_b (B, n, n), block means (B, n)) of
    the fields Y = (lam, nu) of one input in component c."""
    Q, S, G = state["Q"], state["S"], jnp.asarray(inputs["gram"])
    gamma = jnp.concatenate([jnp.concatenate([Q, S], -1), jnp.concatenate([jnp.swapaxes(S, -1, -2), G], -1)], -2)
    alpha = jnp.asarray(inputs["means"])[c]
    block_mean = jnp.concatenate([S @ alpha, G @ alpha], -1)              # (B, n)
    block_cov = jnp.asarray(inputs["variances"])[c][:, None, None] * gamma
    return block_mean.sum(0), block_cov.sum(0), block_cov, block_mean


def component_moments(rule, state, p, c, expectations: str, nodes: int):
    """The rule's moments in component c: its closed form (expectations 'closed') or the cubature."""
    if expectations == "closed":
        return rule.moments(state, p, c)
    mean, cov, _, _ = field_statistics(state, p["inputs"], c)
    return cubature_moments.cubature(rule, mean, cov, c, state["theta"], p, nodes)


def _regress(cov, block_cov, phi_y):
    """Delta_cb Gamma_b Sigma^+ phi_y[k] for every block: (B, K, n). One block needs no inverse (it is phi_y)."""
    if block_cov.shape[0] == 1:
        return phi_y[None]
    e, U = jnp.linalg.eigh(cov)
    keep = e > 1e-12 * jnp.max(jnp.abs(e))
    pinv = (U * jnp.where(keep, 1.0 / jnp.where(keep, e, 1.0), 0.0)) @ U.T
    return jnp.einsum("bnm,mo,ko->bkn", block_cov, pinv, phi_y)


def vector_field(rule, t, state, p, expectations: str = "cubature", nodes: int = 8):
    """d(state)/dt at time t (module docstring) for one scenario; p holds the rule's numbers and
    p['inputs'] the input model's arrays (Inputs.arrays())."""
    K = rule.K
    inputs = p["inputs"]
    rho = jnp.asarray(inputs["fractions"])
    weights = probabilities(inputs, t)
    C = weights.shape[0]

    def one(c):
        mom = component_moments(rule, state, p, c, expectations, nodes)
        mean, cov, block_cov, block_mean = field_statistics(state, inputs, c)
        X = mom["phi"][None, :, None] * block_mean[:, None, :] + _regress(cov, block_cov, mom["phi_y"])  # (B, K, n)
        lam = X[..., :K]
        var = jnp.asarray(inputs["variances"])[c]
        dQ = lam + jnp.swapaxes(lam, -1, -2) + (rho * var)[:, None, None] * mom["phiphi"]
        return {"Q": dQ, "S": X[..., K:], "theta": mom["psi"]}

    per = jax.vmap(one)(jnp.arange(C))
    mixed = jax.tree.map(lambda a: jnp.tensordot(weights, a, axes=1), per)
    decay = p.get("decay", 0.0)
    return {"Q": mixed["Q"] - 2 * decay * state["Q"], "S": mixed["S"] - decay * state["S"], "theta": mixed["theta"]}


def diverged(state, p):
    """Not finite, or a squared norm Q_kk (summed over blocks) above p['blowup']."""
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(state)]))
    return ~finite | (jnp.max(jnp.diagonal(state["Q"].sum(0))) > p["blowup"])


def integrate(rule, y0, params, ts, expectations: str, nodes: int, rtol: float = 1e-8, atol: float = 1e-11,
              max_steps: int = MAX_STEPS):
    """Integrate a batch of scenarios (leading axis of y0 and params) on the grid ts (float64: call inside
    jax.enable_x64). Returns (ys on ts, NaN after a divergence; diverged; solver finished; time reached)."""
    return _integrate_jit(rule, y0, params, jnp.asarray(ts), expectations, nodes, rtol, atol, max_steps)


@lazy.jit(static_argnums=(0, 4, 5, 6, 7, 8))
def _integrate_jit(rule, y0, params, ts, expectations, nodes, rtol, atol, max_steps):
    term = diffrax.ODETerm(lambda t, y, p: vector_field(rule, t, y, p, expectations, nodes))
    event = diffrax.Event(lambda t, y, p, **kw: diverged(y, p))

    def one(y, p):
        breaks = jnp.asarray(p["inputs"]["breaks"])
        return solve_on_grid(term, event, y, p, ts, rtol, atol, max_steps, breaks if breaks.size else None)

    return jax.vmap(one)(y0, params)


CHECK_NODES = 8
"""The fewest nodes per axis with which the cubature checks a closed form (coarser rules are not run)."""


def cubature_error(rule, states, ts, params, nodes: int, expectations: str) -> np.ndarray:
    """Per run of a batch (leading axis of states (runs, T, ...) and params): the largest relative change of
    the drift over the recorded states when the cubature uses two nodes fewer per axis, or (expectations
    'closed') when the cubature replaces the closed form: max_t |f - f_other| / (max_t |f| + 1e-300), f the
    concatenated drift. NaN states (after a divergence) are skipped."""
    return np.asarray(_error_jit(rule, states, jnp.asarray(ts), params, nodes, expectations))


@lazy.jit(static_argnums=(0, 4, 5))
def _error_jit(rule, states, ts, params, nodes, expectations):
    coarse = max(3, nodes - 2)

    def drift(t, y, p, how, n):
        f = vector_field(rule, t, y, p, how, n)
        return jnp.concatenate([a.reshape(-1) for a in jax.tree.leaves(f)])

    def one_run(ys, p):
        def both(t, y):
            if expectations == "closed":
                return drift(t, y, p, "closed", nodes), drift(t, y, p, "cubature", nodes)
            return drift(t, y, p, "cubature", nodes), drift(t, y, p, "cubature", coarse)

        fine, other = jax.lax.map(lambda ty: both(*ty), (ts, ys))
        good = jnp.all(jnp.isfinite(fine), -1) & jnp.all(jnp.isfinite(other), -1)
        diff = jnp.where(good[:, None], jnp.abs(fine - other), 0.0)
        size = jnp.where(good[:, None], jnp.abs(fine), 0.0)
        return jnp.max(diff) / (jnp.max(size) + 1e-300)

    return jax.vmap(one_run)(states, params)


def nodes_for(rule, points: int | None = None) -> int:
    """The cubature nodes per axis for `rule` within `points` (default moments.POINTS) per component."""
    split, smooth = cubature_moments.dimensions(rule.K, rule.F, rule.splits, rule.episode, rule.n_aux)
    return cubature_moments.nodes_for(split, smooth, points or cubature_moments.POINTS)


def check_points(rule, nodes: int) -> int:
    """Refuse a cubature over more than moments.MAX_POINTS points, with the estimate; returns the points."""
    split, smooth = cubature_moments.dimensions(rule.K, rule.F, rule.splits, rule.episode, rule.n_aux)
    n = cubature_moments.points(nodes, split, smooth)
    if n > cubature_moments.MAX_POINTS:
        raise ValueError(f"nodes: the cubature over {split + smooth} axes with {nodes} nodes per axis needs {n:.3g} "
                         f"points per component (at most {cubature_moments.MAX_POINTS:.3g}); give the rule closed-form "
                         f"moments or fewer nodes")
    return n

