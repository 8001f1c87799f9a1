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
arXiv 2505.24333, frozen above beta_c = sqrt(2 / (1 - c)). mlp 'none' removes the MLP sub-block.

Inputs: T tokens of squared norm d and pairwise cosine p0, built from one shared Gaussian direction z and T
independent ones xi_i (made orthogonal to z): x_i = sqrt(d) (sqrt(p0) z / |z| + sqrt(1 - p0) xi_i / |xi_i|), then
LayerNorm'ed (hild.families.signal_prop.simulate). The theory starts from q = 1, p = p0.

Protocol: model `signal_prop`, axis `layer` (0 = the input, l = the output of block l), size `d`: the width is
the finite-size parameter of the simulation (the layer map is its d -> infinity limit, and does not depend on
it), `simulate(d=...)`; the field d is only simulate's default. T stays a field (the theory has a finite-T REM).
"""
from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.core.divergence import check as flag_divergence
from hild.families.signal_prop.theory import HYPER, MLP_ACTIVATIONS, REMS

xr = lazy.module("xarray")

NORMS = ("post", "pre")
MLPS = MLP_ACTIVATIONS + ("none",)
CONVENTION = ("query/key weights of variance beta sqrt(ln T) / d, scores q.k / sqrt(d_H): token-dependent score "
              "sd beta sqrt((1 - c) ln T) (REM, arXiv 2505.24333); value, MLP weights sigma^2 / fan-in, biases "
              "sigma_b2; residual x -> alpha x + branch; cosine = mean off-diagonal token cosine")
BLOWUP = Blowup(("cos", "q"), 1e15)
"""Diverged where the forward signal, the cosine or the norm q, is not finite or exceeds 1e15 in size (q grows
without bound only in pre-LN stacks; float32 squares overflow near 1e19). The gradient ratio is not watched:
exploding or vanishing gradients over depth are a prediction, not a failure; it is blanked at every layer of a
diverged run (its backward pass starts from the diverged top), and non-finite values (float32 overflow of the
backward pass alone) are NaN."""


LAYER_OPERATIONS = {"relu": 1.5e6, "tanh": 8e6, "gelu": 1.6e7, "none": 8e5}
"""The time of one layer of the theory's layer map (rem 'asymptotic') per MLP, in nominal operations
(hild.core.resources: 1 ns each), as measured; rem 'finite' adds about 2.5e6 a layer."""


class FieldWidth(int):
    """simulate's default width: the int 64 (the field d's default), standing for the scenario's field d, so that
    `RandomTransformer(d=256).simulate()` runs at d = 256 as it did when d was only a field.

    **Arguments:** the int value (`FIELD_D` = FieldWidth(64) is the one instance used)."""


FIELD_D = FieldWidth(64)


@register
@dataclass(frozen=True, kw_only=True)
class RandomTransformer(Scenario):
    """A stack of L random transformer blocks on T tokens of width d (see the module docstring).

    T tokens, d the simulation's default width, L blocks, heads (divides d); beta, sigma_v2, sigma_w2, sigma_b2,
    alpha_A, alpha_M (>= 0) as in the module docstring; mlp 'relu', 'tanh', 'gelu' or 'none'; norm 'post' or
    'pre'; p0 in [0, 1), the input tokens' cosine.

    Axis `layer` (0 .. L); size `d`. Variables: `cos` (mean token cosine), `q`, `grad_ratio`, and per block on
    the layer it produces `cos_attn`, `attention_ipr`, `entropy`, `entropy_ratio`; the theory adds `beta_c`,
    `frozen`, the simulation `cos_sd`, `cos_quantile` (quantile).

    **Arguments:** `T` (integer >= 2, default 32); `d` (integer >= 2, a multiple of heads, default 64); `L`
    (integer >= 1, default 8); `heads` (integer >= 1, dividing d, default 1); `beta` (default 0.5), `sigma_v2`
    (0.2), `sigma_w2` (0.2), `sigma_b2` (4e-4), `alpha_A` (1), `alpha_M` (1): finite numbers >= 0; `mlp` (one of
    'relu', 'tanh', 'gelu', 'none'; default 'relu'); `norm` ('post' or 'pre'; default 'post'); `p0` (in [0, 1),
    default 0.2).
    """

    model: ClassVar[str] = "signal_prop"
    axis: ClassVar[str] = "layer"
    size: ClassVar[str] = "d"
    sweepable: ClassVar[tuple[str, ...]] = HYPER + ("p0", "T", "heads", "mlp", "norm")  # not L: the axis length
    convention: ClassVar[str] = CONVENTION
    divergence: ClassVar[Blowup] = BLOWUP
    description: ClassVar[str] = "random transformer at initialisation: token cosine, attention and gradients by layer"
    papers: ClassVar[tuple[str, ...]] = ("2505.24333", "2403.02579")

    T: int = 32
    d: int = int(FIELD_D)
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
        for name in HYPER:
            set_(name, check.real(name, getattr(self, name), minimum=0.0))
        if self.mlp not in MLPS:
            raise ValueError(f"mlp must be one of {', '.join(map(repr, MLPS))}; got {self.mlp!r}")
        if self.norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}; got {self.norm!r}")
        set_("p0", check.real("p0", self.p0, minimum=0.0, maximum=1.0))
        if self.p0 == 1.0:
            raise ValueError("p0 must be a finite number in [0, 1); got 1")

    @classmethod
    def example(cls) -> "RandomTransformer":
        """16 tokens, 4 post-LN ReLU blocks below the freezing point (simulate's default width d = 64).

        **Arguments:** none. **Returns:** a `RandomTransformer`."""
        return cls(T=16, L=4)

    @property
    def hyper(self) -> dict:
        """The scalar hyper-parameters of the maps (hild.signal_prop.theory)."""
        return {k: getattr(self, k) for k in HYPER}

    @property
    def mlp_or_none(self) -> str | None:
        return None if self.mlp == "none" else self.mlp

    # --- theory ---------------------------------------------------------------------------------

    def batch_key(self):
        """Scenarios with equal T, L, norm and MLP share one vectorised layer map."""
        return (self.T, self.L, self.norm, self.mlp)

    @classmethod
    def theory_batch(cls, scenarios: Sequence["RandomTransformer"], rem: str = "asymptotic") -> xr.Dataset:
        """The theory of many scenarios along `scenario`: one vectorised layer map per batch key (in key order of
        first appearance, then put back in the given order)."""
        from hild.families.signal_prop.theory import theory_batch

        scenarios = list(scenarios)
        if not scenarios:
            raise ValueError("scenarios must hold at least one scenario")
        _check_rem(rem)
        groups: dict = {}
        for i, s in enumerate(scenarios):
            groups.setdefault(s.batch_key(), []).append(i)
        if len(groups) > 1 and len({s.L for s in scenarios}) > 1:
            raise ValueError(f"theory_batch: scenarios of different depths L {sorted({s.L for s in scenarios})} "
                             "have different layer axes; batch them apart")
        parts, order = [], []
        for members in groups.values():
            parts.append(theory_batch([scenarios[i] for i in members], rem))
            order += members
        ds = parts[0] if len(parts) == 1 else xr.concat(parts, "scenario")
        ds = ds.isel(scenario=np.argsort(order)).assign_coords(scenario=np.arange(len(scenarios)))
        ds.attrs = scenarios[0].provenance("theory", dtype="float64", rem=rem)
        return _flag(ds)

    def theory(self, *, rem: str = "asymptotic") -> xr.Dataset:
        """The d -> infinity layer map (hild.signal_prop.theory) along `layer`.

        **Arguments:**
        - `rem`: 'asymptotic' (the T -> infinity REM, the paper's map) or 'finite' (attention statistics of a
          finite-T REM).

        **Returns:** a Dataset over `layer` (see hild.families.signal_prop.theory.theory_batch): `cos`, `q`,
        `grad_ratio`, `cos_attn`, `attention_ipr`, `entropy`, `entropy_ratio`, `beta_c`, `frozen`, with `diverged`
        and `layer_diverged`.
        """
        _check_rem(rem)
        from hild.families.signal_prop.theory import theory

        ds = theory(self, rem)
        ds.attrs = self.provenance("theory", dtype="float64", rem=rem)
        return _flag(ds)

    # --- simulation -----------------------------------------------------------------------------

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        _check_rem(options["rem"])

    def theory_needs(self, rem, **_) -> list[Need]:
        """The layer map runs one vectorised block per layer in Python: about 2.5 kB of records and the time of
        LAYER_OPERATIONS per layer (measured); rem 'finite' first tabulates a finite-T REM over 161 x 21
        (sigma, c) points from 256 rows of T scores (hild.families.signal_prop.rem; about 500 operations' time
        per score, measured)."""
        L, T = float(self.L), float(self.T)
        finite = rem == "finite"
        out = [Need("the records of every layer", ("L",), L * 2560.0),
               Need("the variables per layer", ("L",), array(L + 1, 10), result=True),
               Need("the layer map", ("L",), operations=L * (LAYER_OPERATIONS[self.mlp] + (2.5e6 if finite else 0)))]
        if finite:
            out.append(Need("the finite-T REM table", ("T",), 4 * array(21, 256, T),
                            operations=161 * 21 * 256 * T * 500))
        return out

    def simulation_needs(self, d, seeds, dtype, **_) -> list[Need]:
        """The stack's activations, weights and token cosines, and its forward and backward passes
        (hild.families.signal_prop.simulate.needs)."""
        from hild.families.signal_prop.simulate import needs

        return needs(self, self.width(d), seeds, 1, dtype, full=True)

    def check_simulation(self, **arguments) -> None:
        """Raise ValueError naming the argument if `simulate(**arguments)` is invalid (an unknown name, a value out
        of range), before anything is allocated."""
        from hild.families.signal_prop.simulate import check_arguments

        super().check_simulation(**arguments)
        bound = inspect.signature(self.simulate).bind(**arguments)
        bound.apply_defaults()
        a = bound.arguments
        check_arguments(self, self.width(a["d"]), a["seeds"], a["seed"], a["dtype"])

    def width(self, d) -> int:
        """The width simulate runs at: the field d for simulate's default (FIELD_D), else d."""
        return self.d if isinstance(d, FieldWidth) else d

    def simulate(self, *, d: int = FIELD_D, seeds: int = 1, seed: int = 0, dtype: str = "float32") -> xr.Dataset:
        """The real random stack at width d, `seeds` independent draws (hild.signal_prop.simulate).

        **Arguments:**
        - `d`: the width (>= 2, a multiple of heads); the default is the field d (64 unless set).
        - `seeds`, `seed`: seeds seed, seed + 1, ... (one draw of inputs, weights and readout each).
        - `dtype`: 'float32' (default) or 'float64'.

        **Returns:** a Dataset over (seed, layer) with the theory's variables (but beta_c, frozen) and cos_sd,
        cos_quantile; `diverged` per seed and `layer_diverged`.
        """
        from hild.families.signal_prop.simulate import simulate

        d = self.width(d)
        self.check_simulation(d=d, seeds=seeds, seed=seed, dtype=dtype)
        ds = simulate(self, d=d, seeds=seeds, seed=seed, dtype=dtype)
        at = dataclasses.replace(self, d=d)  # its params record the width simulated
        ds.attrs = at.provenance("simulation", dtype=dtype, seeds=range(seed, seed + seeds), size=d)
        return _flag(ds)

    def figure(self, theory: xr.Dataset | None, simulation: xr.Dataset | None, title: str = ""):
        """Cosine by layer, attention statistics by block, gradient ratio (hild.signal_prop.figure)."""
        from hild.families.signal_prop.figure import figure

        d = f", d={simulation.attrs['d']}" if simulation is not None and "d" in simulation.attrs else ""
        return figure(theory, simulation, title=title or (
            f"{self.norm}-LN, T={self.T}{d}, L={self.L}, beta={self.beta:g}, alpha_A={self.alpha_A:g}, "
            f"alpha_M={self.alpha_M:g}, {self.mlp} MLP"))


def _flag(ds: xr.Dataset) -> xr.Dataset:
    """The divergence rule BLOWUP applied along `layer` (hild.core.divergence), and the gradient ratio blanked
    where it is not finite and at every layer of a diverged run."""
    ds = flag_divergence(ds, RandomTransformer.axis, RandomTransformer.divergence)
    grad = ds["grad_ratio"]
    ds["grad_ratio"] = grad.where(np.isfinite(grad) & ~ds["diverged"])
    return ds


def _check_rem(rem) -> None:
    if rem not in REMS:
        raise ValueError(f"rem must be one of {', '.join(map(repr, REMS))}; got {rem!r}")
