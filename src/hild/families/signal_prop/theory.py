"""The layer-to-layer map of the token geometry of a random transformer stack (arXiv 2505.24333, 2403.02579).

The state of T tokens is the permutation-symmetric Gram matrix X X^T / d = q[(1 - c) I + c 11^T]: a squared
norm per dimension q and an off-diagonal overlap p = q c (the (q, p) map of Cowsik et al.,
arXiv 2403.02579). One block (post-LN: x <- LN(alpha_A x + Attn(x)), x <- LN(alpha_M x + MLP(x)); pre-LN:
x <- alpha_A x + Attn(LN x), x <- alpha_M x + MLP(LN x)) maps it as follows, as d -> infinity.

Attention (REM, Giorlandino & Goldt, arXiv 2505.24333; authors' theory_update_relu.py) on tokens of cosine c:
outputs y_i = sum_j A_ij x_j have self-overlap q_att = c + (1 - c) IPR and cross-overlap
p_att = c + (1 - c) X, where IPR = sum_j A_ij^2 (the inverse participation ratio of a row, Derrida's Y_2) and
X = sum_j A_ij A_kj (i != k). Asymptotically (rem='asymptotic', the paper's map) IPR = max(0, 1 - beta_c / beta)
and X = 0; rem='finite' takes both from
a finite-T REM whose rows' scores are correlated by c (hild.signal_prop.rem.finite_rem).
Values (W_V of variance sigma_v^2 / d, bias sigma_b^2) and the residual:

    q_h = alpha_A^2 q + sigma_v^2 q_att + sigma_b^2,   p_h = alpha_A^2 p + sigma_v^2 p_att + sigma_b^2

MLP W_2 phi(W_1 LN(h) + b_1) + b_2 (weights sigma_w^2 / fan-in, biases sigma_b^2) on inputs of cosine c_0:
pre-activations have q_1 = sigma_w^2 + sigma_b^2, p_1 = sigma_w^2 c_0 + sigma_b^2, and

    q_M = sigma_w^2 E[phi(u)^2] + sigma_b^2,   p_M = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2

(ReLU: E[phi(u) phi(v)] = q_1 rho(p_1 / q_1) / 2 with the arc-cosine kernel rho of hild.core.gaussian.relu_kernel;
tanh, GELU: hild.core.gaussian.expect_pair, a 141 x 141 uniform grid on [-7, 7]^2). Post-LN divides q and p by q
after each sub-block (q = 1 between blocks). `cos_attn`, the cosine after the attention sub-block (residual added,
and LN for post-LN), is p_h / q_h.

Gradients (backward Gram map; derived here by the same Gaussian recipe): for per-token gradients with
self-overlap s and cross-overlap g, the value path of attention maps s -> sigma_v^2 ((s - g) IPR + g),
g -> sigma_v^2 ((s - g) X + g) (column sums of A are 1 on average); below the freezing point the score
path adds to s its key part, coherent over the T queries, sigma_v^2 beta^2 ln T c (1 - c) g (the query part is
O(1/T)); it vanishes at collapse (c = 1, all values equal) and is not modelled in the frozen phase;
the MLP maps s -> sigma_w^4 E[phi'(u)^2] s, g -> sigma_w^4 E[phi'(u) phi'(v)] g; residuals add alpha^2 (s, g);
a LayerNorm of input norm q divides by q. The readout is the token mean (s = g at the top).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from hild.core import lazy
from hild.core.gaussian import expect_1d, expect_pair, relu_kernel, relu_step_kernel
from hild.families.signal_prop import rem

xr = lazy.module("xarray")
scipy_special = lazy.module("scipy.special")

MLP_ACTIVATIONS = ("relu", "tanh", "gelu")
ACTIVATIONS = MLP_ACTIVATIONS  # the earlier name (it clashed with hild.core.gaussian.ACTIVATIONS, the committee's)
REMS = ("asymptotic", "finite")
HYPER = ("beta", "sigma_v2", "sigma_w2", "sigma_b2", "alpha_A", "alpha_M")
"""The scalar hyper-parameters of the map (the scenario fields a theory batch stacks, with p0)."""


def _phi(act: str):
    if act == "tanh":
        return np.tanh
    return lambda x: x * 0.5 * (1.0 + scipy_special.erf(x / np.sqrt(2.0)))  # gelu (exact)


def _dphi(act: str):
    if act == "tanh":
        return lambda x: 1.0 - np.tanh(x) ** 2
    return lambda x: 0.5 * (1.0 + scipy_special.erf(x / np.sqrt(2.0))) + x * np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)


def mlp_moments(act: str, q1, p1, derivatives: bool = True):
    """(E phi(u)^2, E phi(u) phi(v), E phi'(u)^2, E phi'(u) phi'(v)) for (u, v) Gaussian with variances q1 and
    covariance p1 (the last two only with `derivatives`, else None): closed forms for ReLU
    (hild.core.gaussian.relu_kernel, relu_step_kernel), the uniform rule of hild.core.gaussian.expect_pair for
    tanh and GELU; broadcasts over arrays.

    **Arguments:** `act`: one of `MLP_ACTIVATIONS`; `q1` (>= 0), `p1` (|p1| <= q1): variance and covariance;
    `derivatives` (default True).

    **Returns:** a tuple of four float64 arrays of the broadcast shape (the last two None without `derivatives`)."""
    q1, p1 = np.broadcast_arrays(np.asarray(q1, dtype=float), np.asarray(p1, dtype=float))
    c = np.clip(np.where(q1 > 0, p1 / np.where(q1 > 0, q1, 1.0), 1.0), -1.0, 1.0)
    if act == "relu":
        if not derivatives:
            return q1 / 2, q1 / 2 * relu_kernel(c), None, None
        return q1 / 2, q1 / 2 * relu_kernel(c), np.full_like(q1, 0.5), relu_step_kernel(c)
    phi = _phi(act)
    e_ff, e_fg = expect_1d(lambda x: phi(x) ** 2, q1), expect_pair(phi, q1, p1)
    if not derivatives:
        return e_ff, e_fg, None, None
    dphi = _dphi(act)
    return e_ff, e_fg, expect_1d(lambda x: dphi(x) ** 2, q1), expect_pair(dphi, q1, p1)


def attention_overlaps(beta, c, T: int, rem_kind: str = "asymptotic"):
    """(IPR, X): the self-overlap sum_j A_ij^2 and the cross-overlap sum_j A_ij A_kj of attention rows on tokens of
    cosine c (see the module docstring).

    **Arguments:** `beta`: the attention's inverse temperature (>= 0); `c`: the tokens' cosine (in [0, 1]); `T`:
    the number of tokens; `rem_kind`: 'asymptotic' (X = 0, IPR = max(0, 1 - beta_c / beta)) or 'finite'.

    **Returns:** (IPR, X), float64 arrays of the broadcast shape of `beta` and `c`."""
    if rem_kind == "asymptotic":
        ipr = rem.inverse_participation_ratio(beta, c)
        return ipr, np.zeros_like(ipr)
    _, ipr, X = rem.finite_rem(beta, c, T)
    return ipr, X


def block(q, p, hp: dict, T: int, norm: str = "post", mlp: str | None = "relu", rem_kind: str = "asymptotic",
          derivatives: bool = True):
    """One transformer block on the (q, p) state; returns (q, p) after it and the sub-block records
    (attention input cosine c_att, IPR, X, q_h, the cosine after the attention sub-block cos_attn, MLP input cosine,
    q_2 and, with `derivatives`, the moments of phi') needed by the backward map and the theory's variables.

    **Arguments:** `q` (> 0), `p`: the state (arrays); `hp`: the hyper-parameters of `HYPER` (`beta`, `sigma_v2`,
    `sigma_w2`, `sigma_b2`, `alpha_A`, `alpha_M`; numbers or arrays that broadcast); `T`: tokens; `norm`: 'post' or
    'pre'; `mlp`: one of `MLP_ACTIVATIONS` or None (attention only); `rem_kind`: 'asymptotic' or 'finite';
    `derivatives` (default True).

    **Returns:** (q, p, rec): two arrays of the broadcast shape and a dict of arrays (`c_att`, `ipr`, `X`,
    `q_in_att`, `q_h`, `log_T`, `cos_attn`; with an MLP also `c_mlp`, `q_in_mlp`, `q_2`, `dd`, `dg`)."""
    a2, m2 = hp["alpha_A"] ** 2, hp["alpha_M"] ** 2
    sv, sw, sb = hp["sigma_v2"], hp["sigma_w2"], hp["sigma_b2"]
    c = np.clip(p / q, -1.0, 1.0)
    ipr, X = attention_overlaps(hp["beta"], c, T, rem_kind)
    q_att, p_att = c + (1 - c) * ipr, c + (1 - c) * X
    qh, ph = a2 * q + sv * q_att + sb, a2 * p + sv * p_att + sb
    rec = {"c_att": c, "ipr": ipr, "X": X, "q_in_att": q, "q_h": qh, "log_T": np.log(T),
           "cos_attn": np.clip(ph / qh, -1.0, 1.0)}
    if norm == "post":
        qh, ph = np.ones_like(qh), ph / qh
    if mlp is None:
        return qh, ph, rec
    c0 = np.clip(ph / qh, -1.0, 1.0)
    q1, p1 = sw + sb, sw * c0 + sb
    e_ff, e_fg, e_dd, e_dg = mlp_moments(mlp, q1, p1, derivatives)
    q2, p2 = m2 * qh + sw * e_ff + sb, m2 * ph + sw * e_fg + sb
    rec.update({"c_mlp": c0, "q_in_mlp": qh, "q_2": q2, "dd": e_dd, "dg": e_dg})
    if norm == "post":
        q2, p2 = np.ones_like(q2), p2 / q2
    return q2, p2, rec


def backward(s, g, rec: dict, hp: dict, norm: str = "post", mlp: str | None = "relu"):
    """The gradient Gram map (s, g) at a block's output -> (s, g) at its input (module docstring).

    **Arguments:** `s`, `g`: the gradients' self- and cross-overlap at the block's output; `rec`: the block's
    records from `block` (with `derivatives`); `hp`, `norm`, `mlp`: as given to `block`.

    **Returns:** (s, g) at the block's input, arrays of the broadcast shape."""
    a2, m2 = hp["alpha_A"] ** 2, hp["alpha_M"] ** 2
    sv, sw = hp["sigma_v2"], hp["sigma_w2"]
    if mlp is not None:
        if norm == "post":
            s, g = s / rec["q_2"], g / rec["q_2"]
            s, g = (m2 + sw ** 2 * rec["dd"]) * s, (m2 + sw ** 2 * rec["dg"]) * g
        else:
            qi = rec["q_in_mlp"]
            s, g = m2 * s + sw ** 2 * rec["dd"] * s / qi, m2 * g + sw ** 2 * rec["dg"] * g / qi
    ipr, X, c = rec["ipr"], rec["X"], rec["c_att"]
    key = sv * hp["beta"] ** 2 * rec["log_T"] * c * (1 - c) * g  # the key path, coherent over queries
    if norm == "post":
        s, g, key = s / rec["q_h"], g / rec["q_h"], key / rec["q_h"]
        return a2 * s + sv * ((s - g) * ipr + g) + key, a2 * g + sv * ((s - g) * X + g)
    qi = rec["q_in_att"]
    return a2 * s + (sv * ((s - g) * ipr + g) + key) / qi, a2 * g + sv * ((s - g) * X + g) / qi


def layer_map(hp: dict, T: int, L: int, p0, norm: str = "post", mlp: str | None = "relu",
              rem_kind: str = "asymptotic", gradients: bool = True) -> dict:
    """Iterate the block map L times from unit-norm tokens of cosine p0, vectorised over the broadcast shape of
    the hyper-parameters (dict values may be arrays): one call of `block` per layer whatever the grid.

    **Returns:** arrays with a leading layer axis: q, p, cos (L + 1); per block (L): c_att (the attention's input
    cosine), attention_ipr (sum_j A_ij^2), cos_attn (the cosine after the attention sub-block); and grad, the
    gradient norm at each layer relative to the top (L + 1) for a token-mean readout (when `gradients`)."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in hp.values()), np.shape(p0))
    q, p = np.ones(shape), np.broadcast_to(np.asarray(p0, dtype=float), shape).copy()
    qs, ps, recs = [q], [p], []
    for _ in range(L):  # the iterated map: each step is vectorised over the whole hyper-parameter grid
        q, p, rec = block(q, p, hp, T, norm, mlp, rem_kind, gradients)
        qs.append(q)
        ps.append(p)
        recs.append(rec)
    q, p = np.array(qs), np.array(ps)
    out = {"q": q, "p": p, "cos": np.clip(p / q, -1, 1)}
    if gradients:
        s, g = np.ones(shape), np.ones(shape)
        grads = [s]
        for rec in reversed(recs):
            s, g = backward(s, g, rec, hp, norm, mlp)
            grads.append(s)
        out["grad"] = np.sqrt(np.array(grads[::-1]))
    for key, name in (("c_att", "c_att"), ("ipr", "attention_ipr"), ("cos_attn", "cos_attn")):
        out[name] = np.array([np.broadcast_to(r[key], shape) for r in recs])
    return out


def _per_layer(per_block: np.ndarray) -> np.ndarray:
    """Per-block values (L, ...) on the layer axis (L + 1, ...): block l produces layer l; layer 0 is NaN."""
    return np.concatenate([np.full((1,) + per_block.shape[1:], np.nan), per_block])


def theory_batch(scenarios: Sequence, rem_kind: str = "asymptotic") -> xr.Dataset:
    """The d -> infinity layer map of RandomTransformers sharing T, L, norm and MLP (their `batch_key`), in one
    vectorised call, along the dimension `scenario`.

    **Returns:** a Dataset over (scenario, layer), layer = 0 .. L (the input, then the output of each block):
    cos, q, grad_ratio; per block l, on layer l (NaN at layer 0): cos_attn (after the attention sub-block),
    attention_ipr (sum_j A_ij^2), entropy (nats per row), entropy_ratio (entropy / ln T), beta_c (the freezing
    point at the block's input cosine) and frozen (beta > beta_c; False at layer 0). No provenance attributes
    (the scenario adds them)."""
    first = scenarios[0]
    T, L = first.T, first.L
    hp = {k: np.array([float(getattr(s, k)) for s in scenarios]) for k in HYPER}
    p0 = np.array([float(s.p0) for s in scenarios])
    out = layer_map(hp, T, L, p0, first.norm, first.mlp_or_none, rem_kind)
    c_att = out["c_att"]
    H = rem.entropy(hp["beta"], c_att, T) if rem_kind == "asymptotic" else rem.finite_rem(hp["beta"], c_att, T)[0]
    bc = rem.beta_c(c_att)
    frozen = np.concatenate([np.zeros((1, len(scenarios)), bool), hp["beta"] > bc])
    on = lambda a: (("scenario", "layer"), np.asarray(a, dtype=float).T)  # noqa: E731
    ds = xr.Dataset({"cos": on(out["cos"]), "q": on(out["q"]), "grad_ratio": on(out["grad"]),
                     "cos_attn": on(_per_layer(out["cos_attn"])),
                     "attention_ipr": on(_per_layer(out["attention_ipr"])),
                     "entropy": on(_per_layer(H)), "entropy_ratio": on(_per_layer(H / np.log(T))),
                     "beta_c": on(_per_layer(bc)), "frozen": (("scenario", "layer"), frozen.T)},
                    coords={"scenario": np.arange(len(scenarios)), "layer": np.arange(L + 1)})
    return ds


def theory(sc, rem_kind: str = "asymptotic") -> xr.Dataset:
    """The d -> infinity layer map of one RandomTransformer (`theory_batch` of one scenario, squeezed).

    **Arguments:** `sc`: a `RandomTransformer`; `rem_kind`: 'asymptotic' (default) or 'finite'.

    **Returns:** a Dataset over `layer` with the variables of `theory_batch` (no provenance attributes)."""
    return theory_batch([sc], rem_kind).isel(scenario=0, drop=True)
