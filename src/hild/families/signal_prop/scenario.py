"""The random transformer stack at initialisation: T tokens of width d through L blocks.

Giorlandino & Goldt, arXiv 2505.24333 (REM treatment of attention, rank and entropy collapse, critical residual);
Cowsik, Nebabu, Qi & Ganguli, arXiv 2403.02579 (token geometry as a (q, p) map, angle and gradient exponents).

Block (heads H, head width d_H = d / H; every weight i.i.d. Gaussian, variance over fan-in):
    Attn(x)_i = concat_h sum_j A^h_ij x_j W_V^h + b_V,   A^h = softmax_j(q^h_i . k^h_j / sqrt(d_H)),
    q^h = x W_Q^h, k^h = x W_K^h with variance beta sqrt(ln T) / d, W_V^h of variance sigma_v2 / d
    MLP(x) = phi(x W_1 + b_1) W_2 + b_2, W_1: d x d and W_2: d x d of variance sigma_w2 / d, biases sigma_b2
    post-LN: x <- LN(alpha_A x + Attn(x)); x <- LN(alpha_M x + MLP(x))
    pre-LN:  x <- alpha_A x + Attn(LN x);  x <- alpha_M x + MLP(LN x)
LN has no affine parameters (x - mean, divided by the root mean square over features). beta sets the
scores' token-dependent standard deviation to beta sqrt((1 - c) ln T): the REM temperature of
arXiv 2505.24333, frozen above beta_c = sqrt(2 / (1 - c)). Inputs: T unit-norm-per-dimension tokens of
cosine p0 (a shared Gaussian direction plus independent ones). mlp 'none' removes the MLP sub-block.
"""
from __future__ import annotations

import json
from dataclasses import dataclass


from hild.core import validation as check
from hild.families.signal_prop.theory import ACTIVATIONS, REMS

NORMS = ("post", "pre")
MLPS = ACTIVATIONS + ("none",)
CONVENTION = ("query/key weights of variance beta sqrt(ln T) / d, scores q.k / sqrt(d_H): token-dependent score "
              "sd beta sqrt((1 - c) ln T) (REM, arXiv 2505.24333); value, MLP weights sigma^2 / fan-in, biases "
              "sigma_b2; residual x -> alpha x + branch; cosine = mean off-diagonal token cosine")


@dataclass(frozen=True, kw_only=True)
class RandomTransformer:
    """A stack of L random transformer blocks on T tokens of width d (see the module docstring)."""

    T: int = 32
    d: int = 64
    L: int = 8
    heads: int = 1
    beta: float = 0.5
    sigma_v2: float = 0.2
    sigma_w2: float = 0.2
    sigma_b2: float = 4e-4
    alpha_A: float = 1.0
    alpha_M: float = 1.0
    mlp: str = "relu"
    norm: str = "post"
    p0: float = 0.2

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("T", check.integer("T", self.T, 2))
        set_("d", check.integer("d", self.d, 2))
        set_("L", check.integer("L", self.L, 1))
        set_("heads", check.integer("heads", self.heads, 1))
        if self.d % self.heads:
            raise ValueError(f"heads must divide d = {self.d}; got {self.heads}")
        for name in ("beta", "sigma_v2", "sigma_w2", "sigma_b2", "alpha_A", "alpha_M"):
            set_(name, check.real(name, getattr(self, name), minimum=0.0))
        if self.mlp not in MLPS:
            raise ValueError(f"mlp must be one of {', '.join(map(repr, MLPS))}; got {self.mlp!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}; got {self.norm!r}")
        p0 = check.real("p0", self.p0, minimum=0.0)
        if p0 >= 1:
            raise ValueError(f"p0 must be a finite number in [0, 1); got {p0:g}")
        set_("p0", p0)

    @property
    def hyper(self) -> dict:
        """The scalar hyper-parameters of the maps (hild.signal_prop.theory)."""
        return {k: getattr(self, k) for k in ("beta", "sigma_v2", "sigma_w2", "sigma_b2", "alpha_A", "alpha_M")}

    @property
    def mlp_or_none(self) -> str | None:
        return None if self.mlp == "none" else self.mlp

    @property
    def params(self) -> dict:
        """All parameters as plain JSON-able values."""
        return {"T": self.T, "d": self.d, "L": self.L, "heads": self.heads, **self.hyper, "mlp": self.mlp,
                "norm": self.norm, "p0": self.p0}

    def attrs(self, kind: str) -> dict:
        from hild import __version__
        return {"model": "signal_prop", "kind": kind, "params": json.dumps(self.params),
                "hild_version": __version__, "convention": CONVENTION}

    def theory(self, rem: str = "asymptotic"):
        """The d -> infinity layer map (hild.signal_prop.theory); rem 'asymptotic' (T -> infinity REM, the
        paper's map) or 'finite' (the participation ratio of a finite-T REM)."""
        if rem not in REMS:
            raise ValueError(f"rem must be one of {', '.join(map(repr, REMS))}; got {rem!r}")
        from hild.families.signal_prop.theory import theory
        return theory(self, rem)

    def simulate(self, seeds: int = 1, seed: int = 0, dtype: str = "float32"):
        """The real random stack at width d, `seeds` independent draws (hild.signal_prop.simulate)."""
        from hild.families.signal_prop.simulate import simulate
        return simulate(self, seeds=seeds, seed=seed, dtype=dtype)
