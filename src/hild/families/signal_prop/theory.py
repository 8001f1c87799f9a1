"""The layer-to-layer map of the token geometry of a random transformer stack (arXiv 2505.24333, 2403.02579).

The state of T tokens is the permutation-symmetric Gram matrix X X^T / d = q[(1 - c) I + c 11^T]: a squared
norm per dimension q and an off-diagonal overlap p = q c (the (q, p) map of Cowsik et al.,
arXiv 2403.02579). One block (post-LN: x <- LN(alpha_A x + Attn(x)), x <- LN(alpha_M x + MLP(x)); pre-LN:
x <- alpha_A x + Attn(LN x), x <- alpha_M x + MLP(LN x)) maps it as follows, as d -> infinity.

Attention (REM, Giorlandino & Goldt, arXiv 2505.24333; authors' theory_update_relu.py) on tokens of cosine c:
outputs y_i = sum_j A_ij x_j have self-overlap q_att = c + (1 - c) PR and cross-overlap
p_att = c + (1 - c) X, where PR = sum_j A_ij^2 and X = sum_j A_ij A_kj (i != k). Asymptotically
(rem='asymptotic', the paper's map) PR = max(0, 1 - beta_c / beta) and X = 0; rem='finite' takes both from
a finite-T REM whose rows' scores are correlated by c (hild.signal_prop.rem.finite_rem).
Values (W_V of variance sigma_v^2 / d, bias sigma_b^2) and the residual:

    q_h = alpha_A^2 q + sigma_v^2 q_att + sigma_b^2,   p_h = alpha_A^2 p + sigma_v^2 p_att + sigma_b^2

MLP W_2 phi(W_1 LN(h) + b_1) + b_2 (weights sigma_w^2 / fan-in, biases sigma_b^2) on inputs of cosine c_0:
pre-activations have q_1 = sigma_w^2 + sigma_b^2, p_1 = sigma_w^2 c_0 + sigma_b^2, and

    q_M = sigma_w^2 E[phi(u)^2] + sigma_b^2,   p_M = sigma_w^2 E[phi(u) phi(v)] + sigma_b^2

(ReLU: E[phi(u) phi(v)] = q_1 rho(p_1 / q_1) / 2, rho(c) = (sqrt(1 - c^2) + c (pi - arccos c)) / pi; tanh,
GELU: a 141 x 141 uniform grid on [-7, 7]^2 with Gaussian weights). Post-LN divides q and p by q after each
sub-block (q = 1 between blocks).

Gradients (backward Gram map; derived here by the same Gaussian recipe): for per-token gradients with
self-overlap s and cross-overlap g, the value path of attention maps s -> sigma_v^2 ((s - g) PR + g),
g -> sigma_v^2 ((s - g) X + g) (column sums of A are 1 on average); below the freezing point the score
path adds to s its key part, coherent over the T queries, sigma_v^2 beta^2 ln T c (1 - c) g (the query part is
O(1/T)); it vanishes at collapse (c = 1, all values equal) and is not modelled in the frozen phase;
the MLP maps s -> sigma_w^4 E[phi'(u)^2] s, g -> sigma_w^4 E[phi'(u) phi'(v)] g; residuals add alpha^2 (s, g);
a LayerNorm of input norm q divides by q. The readout is the token mean (s = g at the top).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import erf

from hild.families.signal_prop import rem

ACTIVATIONS = ("relu", "tanh", "gelu")
REMS = ("asymptotic", "finite")
_X = np.linspace(-7.0, 7.0, 141)  # a uniform grid: exact to ~1e-10 for tanh(s x) up to s = 4, unlike Gauss-Hermite
_W = np.exp(-_X ** 2 / 2) / np.exp(-_X ** 2 / 2).sum()


def _phi(act: str, x):
    if act == "tanh":
        return np.tanh(x)
    return x * 0.5 * (1.0 + erf(x / np.sqrt(2.0)))  # gelu (exact)


def _dphi(act: str, x):
    if act == "tanh":
        return 1.0 - np.tanh(x) ** 2
    return 0.5 * (1.0 + erf(x / np.sqrt(2.0))) + x * np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)


def relu_kernel(c):
    """rho(c) = E[relu(u) relu(v)] / E[relu(u)^2] for unit Gaussians of correlation c (the arc-cosine kernel)."""
    c = np.clip(c, -1.0, 1.0)
    return (np.sqrt(1.0 - c ** 2) + c * (np.pi - np.arccos(c))) / np.pi


def mlp_moments(act: str, q1, p1, derivatives: bool = True):
    """(E phi(u)^2, E phi(u) phi(v), E phi'(u)^2, E phi'(u) phi'(v)) for (u, v) Gaussian with variances q1 and
    covariance p1 (the last two only with `derivatives`, else None): closed forms for ReLU, a uniform-grid
    quadrature for tanh and GELU; broadcasts over arrays."""
    q1, p1 = np.broadcast_arrays(np.asarray(q1, dtype=float), np.asarray(p1, dtype=float))
    c = np.clip(np.where(q1 > 0, p1 / np.where(q1 > 0, q1, 1.0), 1.0), -1.0, 1.0)
    if act == "relu":
        if not derivatives:
            return q1 / 2, q1 / 2 * relu_kernel(c), None, None
        return q1 / 2, q1 / 2 * relu_kernel(c), np.full_like(q1, 0.5), (np.pi - np.arccos(c)) / (2 * np.pi)
    s = np.sqrt(q1)[..., None]
    u = s * _X
    fu = _phi(act, u)
    cc = c[..., None, None]
    v = s[..., None] * (cc * _X[:, None] + np.sqrt(1.0 - cc ** 2) * _X[None, :])
    pair = lambda a, b: np.einsum("...i,...ij,i,j->...", a, b, _W, _W)  # noqa: E731
    e_ff, e_fg = (fu ** 2) @ _W, pair(fu, _phi(act, v))
    if not derivatives:
        return e_ff, e_fg, None, None
    du = _dphi(act, u)
    return e_ff, e_fg, (du ** 2) @ _W, pair(du, _dphi(act, v))


def attention_overlaps(beta, c, T: int, rem_kind: str = "asymptotic"):
    """(PR, X): the self- and cross-overlap of attention rows on tokens of cosine c (see the module docstring)."""
    if rem_kind == "asymptotic":
        pr = rem.participation_ratio(beta, c)
        return pr, np.zeros_like(pr)
    _, pr, X = rem.finite_rem(beta, c, T)
    return pr, X


def block(q, p, hp: dict, T: int, norm: str = "post", mlp: str | None = "relu", rem_kind: str = "asymptotic",
          derivatives: bool = True):
    """One transformer block on the (q, p) state; returns (q, p) after it and the sub-block records
    (attention input cosine, PR, X, q_h, MLP input cosine, q_2 and, with `derivatives`, the moments of phi')
    needed by the backward map."""
    a2, m2 = hp["alpha_A"] ** 2, hp["alpha_M"] ** 2
    sv, sw, sb = hp["sigma_v2"], hp["sigma_w2"], hp["sigma_b2"]
    c = np.clip(p / q, -1.0, 1.0)
    pr, X = attention_overlaps(hp["beta"], c, T, rem_kind)
    q_att, p_att = c + (1 - c) * pr, c + (1 - c) * X
    qh, ph = a2 * q + sv * q_att + sb, a2 * p + sv * p_att + sb
    rec = {"c_att": c, "pr": pr, "X": X, "q_in_att": q, "q_h": qh, "log_T": np.log(T)}
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
    """The gradient Gram map (s, g) at a block's output -> (s, g) at its input (module docstring)."""
    a2, m2 = hp["alpha_A"] ** 2, hp["alpha_M"] ** 2
    sv, sw = hp["sigma_v2"], hp["sigma_w2"]
    if mlp is not None:
        if norm == "post":
            s, g = s / rec["q_2"], g / rec["q_2"]
            s, g = (m2 + sw ** 2 * rec["dd"]) * s, (m2 + sw ** 2 * rec["dg"]) * g
        else:
            qi = rec["q_in_mlp"]
            s, g = m2 * s + sw ** 2 * rec["dd"] * s / qi, m2 * g + sw ** 2 * rec["dg"] * g / qi
    pr, X, c = rec["pr"], rec["X"], rec["c_att"]
    key = sv * hp["beta"] ** 2 * rec["log_T"] * c * (1 - c) * g  # the key path, coherent over queries
    if norm == "post":
        s, g, key = s / rec["q_h"], g / rec["q_h"], key / rec["q_h"]
        return a2 * s + sv * ((s - g) * pr + g) + key, a2 * g + sv * ((s - g) * X + g)
    qi = rec["q_in_att"]
    return a2 * s + (sv * ((s - g) * pr + g) + key) / qi, a2 * g + sv * ((s - g) * X + g) / qi


def layer_map(hp: dict, T: int, L: int, p0, norm: str = "post", mlp: str | None = "relu",
              rem_kind: str = "asymptotic", gradients: bool = True) -> dict:
    """Iterate the block map L times from unit-norm tokens of cosine p0, vectorised over the broadcast shape of
    the hyper-parameters (dict values may be arrays). Returns arrays with a leading layer axis: q, p, cos
    (L + 1), the per-block attention records (L), and grad, the gradient norm at each layer relative to
    the top (L + 1) for a token-mean readout (when `gradients`)."""
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
    for key in ("c_att", "pr"):
        out[key] = np.array([r[key] for r in recs])
    return out


def theory(sc, rem_kind: str = "asymptotic") -> xr.Dataset:
    """The d -> infinity layer map of a RandomTransformer: cosine, norm, REM attention statistics, gradients."""
    hp = sc.hyper
    out = layer_map(hp, sc.T, sc.L, sc.p0, sc.norm, sc.mlp_or_none, rem_kind)
    c_att = out["c_att"]
    H = rem.entropy(sc.beta, c_att, sc.T) if rem_kind == "asymptotic" else rem.finite_rem(sc.beta, c_att, sc.T)[0]
    layer, blocks = np.arange(sc.L + 1), np.arange(1, sc.L + 1)
    ds = xr.Dataset(
        {"cos": ("layer", out["cos"]), "q": ("layer", out["q"]), "grad_ratio": ("layer", out["grad"]),
         "entropy": ("block", H), "entropy_ratio": ("block", H / np.log(sc.T)), "pr": ("block", out["pr"]),
         "beta_c": ("block", rem.beta_c(c_att)), "frozen": ("block", sc.beta > rem.beta_c(c_att)),
         "diverged": ((), not bool(np.all(np.isfinite(out["p"]))))},
        coords={"layer": layer, "block": blocks}, attrs=sc.attrs("theory"))
    ds.attrs["rem"] = rem_kind
    return ds
