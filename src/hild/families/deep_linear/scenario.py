"""The two-layer linear network scenario: y_hat = W2 W1 x trained on whitened regression data.

Loss (population, whitened inputs E[x x^T] = I, targets y = Sigma_yx x + noise):

    L = 1/2 E||y - W2 W1 x||^2 = 1/2 ||Sigma_yx - W2 W1||_F^2 + const

Learning-rate convention (Saxe et al., arXiv 1312.6120, with tau = 1/lr; per-layer rates as in
Kunin et al., arXiv 2406.06158): one GD step is

    W1 <- W1 - lr * rho_1 * dL/dW1,   W2 <- W2 - lr * rho_2 * dL/dW2

with rho = lr_scales, and time t = lr * steps. Gradient flow conserves the imbalance
C = W2^T W2 / rho_2 - W1 W1^T / rho_1 (width x width) for any initialisation; an initialisation is
lambda-balanced when C = lam * I (Domine et al., arXiv 2409.14623, for rho = 1), and an aligned start
with one lam per mode has C = O diag(lam) O^T, also exactly solvable (hild.deep_linear.theory).

The finite-size parameter is `n_samples`, the number of training samples (None: the population
loss): as it grows, GD on the empirical loss approaches the population gradient flow that the
theory solves (the remaining gap is O(lr)).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hild.core import Blowup, Scenario, register
from hild.core import validation as check
from hild.core import resources
from hild.core.resources import Need, array

INITS = ("aligned", "lambda", "random", "explicit")
LR_CONVENTION = ("W_i <- W_i - lr * lr_scales[i] * dL/dW_i with L = 1/2 E||y - W2 W1 x||^2 (whitened x); "
                 "t = lr * steps (Saxe et al., arXiv 1312.6120, tau = 1/lr)")
BLOWUP = 1e12
"""A run diverges once an entry of W1^T W1, W2 W2^T or W2 W1 exceeds BLOWUP (weights of order 1e6)."""


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def floats(name: str, value) -> np.ndarray:
    """`value` as a float array.

    **Arguments:** `name`: the parameter named in the error; `value`: array-like.

    **Returns:** a float64 array; ValueError naming `name` when `value` holds something that is not a number."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers; got {value!r}") from None


def _admit_task(d_in: int, d_out: int, parameters: tuple[str, ...]) -> None:
    """Refuse, before it is built, a task matrix Sigma_yx (d_out x d_in, float64) that does not fit in memory."""
    resources.admit("deep_linear scenario", [Need("the task matrix Sigma_yx (d_out x d_in)", parameters,
                                                  array(d_out, d_in))])


def mode_weights(u0, lam):
    """(a, b) of an aligned mode with a * b = u0 and b^2 - a^2 = lam: a, b = sqrt((sqrt(lam^2 + 4 u0^2) -+ lam) / 2).

    **Arguments:** `u0` >= 0: the mode's product; `lam`: its imbalance; arrays that broadcast.

    **Returns:** (a, b), two float64 arrays >= 0 of the broadcast shape."""
    u0, lam = np.asarray(u0, float), np.asarray(lam, float)
    root = np.sqrt(lam ** 2 + 4 * u0 ** 2)
    return np.sqrt(np.clip((root - lam) / 2, 0, None)), np.sqrt(np.clip((root + lam) / 2, 0, None))


@register
@dataclass(frozen=True, kw_only=True)
class DeepLinear(Scenario):
    """A two-layer linear network W2 W1 (d_in -> width -> d_out) trained by GD / SGD on whitened regression.

    The task: `singular_values` s (Sigma_yx = diag(s) padded to d_out x d_in; d_in, d_out default to
    len(s)) or an explicit `sigma_yx` matrix (d_out x d_in); neither: the identity task, s = 1 on
    min(width, d_in, d_out) modes. lr: base learning rate; lr_scales: the
    per-layer multipliers (rho_1, rho_2). init: 'aligned' (each mode of Sigma_yx starts at the
    product a b = init_scale, with b^2/rho_2 - a^2/rho_1 = lam; Saxe's decoupled start), 'lambda'
    (random bases, mode strengths init_scale * |N(0, 1)|, exactly lam-balanced), 'random' (i.i.d.
    N(0, init_scale^2) entries; small or large through init_scale; not balanced) or 'explicit'
    (weights = (W1, W2)). lam: one number (the start is lambda-balanced, C = lam I) or one per hidden
    unit (unit a carries the imbalance lam_a; with init 'aligned', unit a is the a-th mode of the task).
    n_samples: None trains on the population loss, else on n_samples Gaussian inputs (whitened exactly
    when whiten=True) with label-noise std `noise`; it is the default of `simulate`'s size argument.
    batch_size: None is full-batch GD, else SGD with that many samples per step (drawn with replacement).

    Axis `t` (= lr * steps); size `n_samples`. Variables (hild.deep_linear.measures): `function` (o, i),
    `W1TW1` (i, i2), `W2W2T` (o, o2), `ntk` (p, p2), `modes` (mode), `loss`, `imbalance` (k, k2),
    `ntk_movement`, `kernel_alignment`, `rep_similarity`; the simulation adds `weight_distance`, `W1_init`,
    `W2_init`.

    **Arguments:** `singular_values` (finite, >= 0) or `sigma_yx` (a finite d_out x d_in matrix), not both;
    `d_in`, `d_out` (integers >= len(singular_values), default len(s); with `sigma_yx`, its shape); `width`
    (integer >= 1);
    `lr` (> 0, default 1e-3); `lr_scales` (two numbers > 0, default (1, 1)); `init` (one of 'aligned',
    'lambda', 'random', 'explicit'; default 'aligned'); `init_scale` (>= 0, default 1e-3); `lam` (a number, or
    width numbers; nonzero only with 'aligned' / 'lambda'; > 0 needs width <= d_out (unit < d_out), < 0 needs
    width <= d_in (unit < d_in)); `weights` ((W1, W2) of shapes (width, d_in), (d_out, width), only with
    'explicit'); `n_samples` (None or an integer >= d_in); `batch_size` (None or >= 1); `noise` (>= 0,
    default 0); `whiten` (bool, default True).
    """

    singular_values: Any = None
    sigma_yx: Any = None
    d_in: int | None = None
    d_out: int | None = None
    width: int
    lr: float = 1e-3
    lr_scales: Any = (1.0, 1.0)
    init: str = "aligned"
    init_scale: float = 1e-3
    lam: Any = 0.0
    weights: Any = None
    n_samples: int | None = None
    batch_size: int | None = None
    noise: float = 0.0
    whiten: bool = True
    sigma: np.ndarray = field(init=False, repr=False, compare=False)

    model = "deep_linear"
    axis = "t"
    size = "n_samples"
    units = ("o", "o2", "i", "i2", "k", "k2", "p", "p2", "mode")
    sweepable = ("d_in", "d_out", "width", "lr", "init", "init_scale", "lam", "batch_size", "noise")
    convention = LR_CONVENTION
    divergence = Blowup(("function", "W1TW1", "W2W2T"), BLOWUP)
    description = "Two-layer linear networks: exact gradient flow (Saxe modes, lambda-balanced Riccati) vs GD/SGD"
    papers = ("1312.6120", "2409.14623", "2406.06158")

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        if self.singular_values is not None and self.sigma_yx is not None:
            raise ValueError("give exactly one of singular_values (the task's singular values) or sigma_yx "
                             "(the d_out x d_in input-output correlation)")
        if self.singular_values is None and self.sigma_yx is None:  # the identity task
            h = check.integer("width", self.width, 1)
            dims = [h] + [check.integer(k, v, 1) for k, v in (("d_in", self.d_in), ("d_out", self.d_out)) if v is not None]
            _admit_task(self.d_in or min(dims), self.d_out or min(dims), ("width", "d_in", "d_out"))
            set_("singular_values", (1.0,) * min(dims))
        if self.singular_values is not None:
            s = np.atleast_1d(floats("singular_values", self.singular_values))
            if s.ndim != 1 or s.size == 0 or not np.all(np.isfinite(s)) or np.any(s < 0):
                raise ValueError(f"singular_values must be finite numbers >= 0; got {np.asarray(self.singular_values).tolist()!r}")
            d_in = len(s) if self.d_in is None else check.integer("d_in", self.d_in, len(s))
            d_out = len(s) if self.d_out is None else check.integer("d_out", self.d_out, len(s))
            _admit_task(d_in, d_out, ("d_in", "d_out"))
            sigma = np.zeros((d_out, d_in))
            sigma[np.arange(len(s)), np.arange(len(s))] = s
            set_("singular_values", tuple(s.tolist()))
        else:
            arr = floats("sigma_yx", self.sigma_yx)
            if arr.ndim != 2:
                raise ValueError(f"sigma_yx must be a d_out x d_in matrix; got shape {arr.shape}")
            d_in = arr.shape[1] if self.d_in is None else check.integer("d_in", self.d_in, 1)
            d_out = arr.shape[0] if self.d_out is None else check.integer("d_out", self.d_out, 1)
            sigma = check.matrix("sigma_yx", arr, (d_out, d_in))
            set_("sigma_yx", tuple(map(tuple, sigma.tolist())))
        set_("d_in", d_in)
        set_("d_out", d_out)
        set_("sigma", sigma)
        set_("width", check.integer("width", self.width, 1))
        set_("lr", check.real("lr", self.lr, minimum=0.0, strict_minimum=True))
        rho = floats("lr_scales", self.lr_scales)
        if rho.shape != (2,) or not np.all(np.isfinite(rho)) or np.any(rho <= 0):
            raise ValueError(f"lr_scales must be 2 finite numbers > 0 (one per layer); got {np.asarray(self.lr_scales).tolist()!r}")
        set_("lr_scales", tuple(rho.tolist()))
        if not isinstance(self.init, str) or self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}; got {self.init!r}")
        set_("init_scale", check.real("init_scale", self.init_scale, minimum=0.0))
        set_("lam", self._lam())
        set_("noise", check.real("noise", self.noise, minimum=0.0))
        if not isinstance(self.whiten, (bool, np.bool_)):
            raise ValueError(f"whiten must be True or False; got {self.whiten!r}")
        if self.init == "explicit":
            if self.weights is None or len(self.weights) != 2:
                raise ValueError("weights must be (W1, W2) when init is 'explicit'")
            W1 = check.matrix("weights[0] (W1)", floats("weights[0] (W1)", self.weights[0]), (self.width, d_in))
            W2 = check.matrix("weights[1] (W2)", floats("weights[1] (W2)", self.weights[1]), (d_out, self.width))
            set_("weights", (tuple(map(tuple, W1.tolist())), tuple(map(tuple, W2.tolist()))))
        elif self.weights is not None:
            raise ValueError(f"weights must be None unless init is 'explicit'; got init {self.init!r}")
        if self.n_samples is not None:
            set_("n_samples", self._n_samples(self.n_samples))
        if self.batch_size is not None:
            set_("batch_size", check.integer("batch_size", self.batch_size, 1))

    def _lam(self):
        """lam as a float, or as a tuple of one float per hidden unit, with the rank conditions checked."""
        lam = floats("lam", self.lam)
        h, din, dout = self.width, self.d_in, self.d_out
        if lam.ndim == 0 and np.isfinite(lam):
            value = float(lam)
            if self.init in ("random", "explicit") and value != 0:
                raise ValueError(f"lam applies to init 'aligned' or 'lambda' only; got lam = {value:g} with init {self.init!r}")
            if value > 0 and h > dout:
                raise ValueError(f"lam must be <= 0 when width > d_out: W2^T W2 = W1 W1^T + lam I has rank <= d_out = "
                                 f"{dout} < width = {h}; got lam = {value:g}")
            if value < 0 and h > din:
                raise ValueError(f"lam must be >= 0 when width > d_in: W1 W1^T = W2^T W2 - lam I has rank <= d_in = "
                                 f"{din} < width = {h}; got lam = {value:g}")
            return value
        if lam.shape != (h,) or not np.all(np.isfinite(lam)):
            raise ValueError(f"lam must be a finite number or width = {h} finite numbers (one per hidden unit); "
                             f"got {np.asarray(self.lam).tolist()!r}")
        if self.init in ("random", "explicit") and np.any(lam != 0):
            raise ValueError(f"lam applies to init 'aligned' or 'lambda' only; got lam = {lam.tolist()} with init {self.init!r}")
        for a, value in enumerate(lam):
            if value > 0 and a >= dout:
                raise ValueError(f"lam[{a}] must be <= 0: hidden unit {a} >= d_out = {dout} has no second-layer "
                                 f"direction to carry b^2 = lam; got lam[{a}] = {value:g}")
            if value < 0 and a >= din:
                raise ValueError(f"lam[{a}] must be >= 0: hidden unit {a} >= d_in = {din} has no first-layer "
                                 f"direction to carry a^2 = -lam; got lam[{a}] = {value:g}")
        return tuple(lam.tolist())

    def _n_samples(self, n) -> int:
        return check.integer("n_samples", n, self.d_in)

    @classmethod
    def example(cls) -> "DeepLinear":
        """Four modes s = 3, 2, 1, 0.5 from an aligned start u0 = 1e-2 at lr 1e-3. The inputs are not
        whitened, so that simulating on n_samples samples differs from the population flow by
        O(n_samples^-1/2) (with n_samples None, the default, GD runs on the population loss).

        **Arguments:** none. **Returns:** a `DeepLinear`."""
        return cls(singular_values=(3.0, 2.0, 1.0, 0.5), width=4, lr=1e-3, init="aligned", init_scale=1e-2,
                   whiten=False)

    def unit_sizes(self) -> dict[str, int]:
        r = min(self.d_in, self.d_out)
        p = self.d_in * self.d_out
        return {"o": self.d_out, "o2": self.d_out, "i": self.d_in, "i2": self.d_in, "k": self.width,
                "k2": self.width, "p": p, "p2": p, "mode": r}

    def svd(self):
        """Full SVD of Sigma_yx: U (d_out x d_out), s (min(d_in, d_out)), V (d_in x d_in); Sigma = U diag(s) V^T."""
        U, s, Vt = np.linalg.svd(self.sigma)
        return U, s, Vt.T

    def initial_weights(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(W1, W2) in float64, drawn from NumPy's PCG64 seeded by `seed` (the seed only rotates the
        hidden basis for 'aligned', which leaves function, representations and NTK unchanged)."""
        rng = np.random.default_rng(seed)
        h, din, dout = self.width, self.d_in, self.d_out
        if self.init == "explicit":
            return np.array(self.weights[0]), np.array(self.weights[1])
        if self.init == "random":
            return (self.init_scale * rng.standard_normal((h, din)), self.init_scale * rng.standard_normal((dout, h)))
        O = _orthogonal(rng, h)
        if self.init == "aligned":
            U, _, V = self.svd()
            u0 = np.full(h, self.init_scale)
        else:
            U, V = _orthogonal(rng, dout), _orthogonal(rng, din)
            u0 = self.init_scale * np.abs(rng.standard_normal(h))
        return balanced_weights(u0, self.lam, self.lr_scales, O, U, V)

    def theory(self, t_max: float = 10.0, n_points: int = 101, init=None, seed: int = 0):
        """The exact gradient-flow solution (hild.deep_linear.theory), float64.

        **Arguments:**
        - `t_max`, `n_points`: the times t = 0 .. t_max (n_points even times), as in `simulate`.
        - `init`: None (initial_weights(seed)), (W1, W2), or a simulation Dataset (one solution per seed).
        - `seed`: the seed of the initial weights when `init` is None.

        **Returns:** a Dataset over `t` (and `seed` when `init` is a simulation) with the variables of the class
        docstring (unit dims o, o2, i, i2, p, p2, mode, k, k2), `diverged` and `t_diverged`. Raises ValueError
        when the start is neither lambda-balanced nor aligned with the task (init 'random' generically).
        """
        from hild.families.deep_linear.theory import theory
        return theory(self, t_max=t_max, n_points=n_points, init=init, seed=seed)

    def matching_theory(self, simulation, **options):
        """The exact solution from each simulated seed's own initial weights (a `seed` dimension)."""
        return self.theory(init=simulation, **options)

    def check_theory(self, **options) -> None:
        """ValueError when the scenario's start has no exact solution (neither lambda-balanced nor aligned), or
        when building that start (`start_needs`) would not fit in memory."""
        super().check_theory(**options)
        from hild.families.deep_linear.theory import exact_start
        check.real("t_max", options["t_max"], minimum=0.0, strict_minimum=True)
        check.integer("n_points", options["n_points"], 2)
        resources.admit(f"{self.model} theory", self.start_needs())
        exact_start(self, *self.initial_weights(options.get("seed", 0)))

    def start_needs(self) -> list[Need]:
        """The memory and work of one seed's initial weights and of the check that they are exactly solvable:
        the full SVD of Sigma_yx (U: d_out x d_out, V: d_in x d_in) or random orthogonal bases of that size, the
        hidden basis O (width x width), W1 and W2, and the aligned-start test (max(d_in, d_out)^2)."""
        i, o, h = self.d_in, self.d_out, self.width
        weights = array(h, i + o)
        if self.init in ("random", "explicit"):
            return [Need("the initial weights W1, W2", ("width", "d_in", "d_out"), 2 * weights)]
        n = max(i, o)
        return [Need("the bases of the initial weights (SVD of Sigma_yx, hidden basis) and the exact-start check",
                     ("d_in", "d_out", "width"), 3 * (array(i, i) + array(o, o) + array(h, h)) + 2 * weights
                     + array(n, n) + 5 * array(h, n),
                     operations=10.0 * (float(i) ** 3 + float(o) ** 3 + float(h) ** 3))]

    def _record_floats(self) -> float:
        """Floats per recorded time of the variables of hild.deep_linear.measures (the NTK, (d_in d_out)^2, dominates;
        building and measuring it costs about 100 (d_in d_out)^2 operations per time, NumPy's einsum, as measured)."""
        i, o, h = float(self.d_in), float(self.d_out), float(self.width)
        return (i * o) ** 2 + i * o + i * i + o * o + h * h + min(i, o) + 6

    def theory_needs(self, n_points, init=None, **_) -> list[Need]:
        """The recorded variables of every start (a simulation's seeds, or one), the NTK built a few times over
        while they are computed, the Riccati flow's (d_in + d_out)^2 matrices and P = Q Q^T per time."""
        starts = init.sizes.get("seed", 1) if hasattr(init, "sizes") else 1  # a simulation Dataset: one per seed
        i, o, h = float(self.d_in), float(self.d_out), float(self.width)
        ntk = array(n_points, i * o, i * o)
        size = ("n_points", "d_in", "d_out")
        return self.start_needs() + [
            Need("the recorded variables (the NTK: n_points x (d_in d_out)^2)", size,
                 array(starts, n_points, self._record_floats()), result=True),
            Need("the copies of the recorded variables (concatenation, divergence check)", size,
                 array(starts, n_points, self._record_floats()) * (2 if starts > 1 else 1)),
            Need("the NTK's factors while it is built", size, 3 * ntk),
            Need("the flow map and P = Q Q^T per time", size,
                 array(n_points + 3, i + o, i + o) + array(n_points, i + o, h)),
            Need("the exact solution and its measures", size,
                 operations=starts * n_points * (100 * (i * o) ** 2 + 2 * (i + o) ** 2 * (i + o + h)))]

    def check_simulation(self, **arguments) -> None:
        super().check_simulation(**arguments)
        from hild.families.deep_linear.simulate import check_run
        a = {"n_samples": None, "seeds": 1, "seed": 0, "t_max": 10.0, "n_points": 101, "dtype": "float64", **arguments}
        check_run(self, a["n_samples"], a["seeds"], a["seed"], a["t_max"], a["n_points"], a["dtype"])

    def simulation_needs(self, n_samples, seeds, t_max, n_points, dtype, **_) -> list[Need]:
        """Every seed's initial weights and data (a list, a stacked copy and the device's), the recorded weights
        (device and host), every seed's recorded variables and their stacked copy, and one seed's NTK factors;
        2 (3 width d_in d_out + d_out d_in^2) operations per GD step and seed, plus 2 batch_size (d_in^2 + d_in d_out)
        per SGD step."""
        n = self.n_samples if n_samples is None else n_samples
        i, o, h = float(self.d_in), float(self.d_out), float(self.width)
        item = 8 if dtype == "float64" else 4
        steps = max(float(t_max) / self.lr, n_points - 1.0)
        per_step = 2 * (3 * h * i * o + o * i * i) + (2.0 * self.batch_size * (i * i + i * o) if self.batch_size else 0)
        data = (i * i + i * o + i + o) if n is None else (float(n) * (i + o) + i * i + i * o)
        records = array(seeds, n_points, self._record_floats())
        record_size = ("seeds", "n_points", "d_in", "d_out")
        return self.start_needs() + [
            Need("every seed's initial weights and data", ("seeds", "n_samples", "d_in"),
                 array(seeds, h * (i + o) + data, itemsize=16 + item)
                 + (0 if n is None else array(n, i) * 3)),
            Need("the recorded weights (device and host)", ("seeds", "n_points", "width"),
                 array(seeds, n_points, h * (i + o), itemsize=8 + item)),
            Need("the recorded variables (the NTK: n_points x (d_in d_out)^2 per seed)", record_size, records,
                 result=True),
            Need("the stacked copy of the recorded variables", record_size, records),
            Need("one seed's NTK factors while it is built", ("n_points", "d_in", "d_out"),
                 3 * array(n_points, i * o, i * o)),
            Need("the GD steps", ("t_max", "seeds", "d_in", "d_out", "width"),
                 operations=float(seeds) * steps * per_step),
            Need("the data and the recorded variables", ("seeds", "n_samples", "n_points"),
                 operations=float(seeds) * ((0 if n is None else 3 * float(n) * i * i) + 10 * i ** 3
                                            + n_points * 100 * (i * o) ** 2))]

    def simulate(self, *, n_samples: int | None = None, seeds: int = 1, seed: int = 0, t_max: float = 10.0,
                 n_points: int = 101, dtype: str = "float64"):
        """GD / SGD on the real network for `seeds` seeds (hild.deep_linear.simulate).

        **Arguments:**
        - `n_samples`: the number of training samples (the size parameter); None: the scenario's own
          `n_samples` (itself None: the population loss).
        - `seeds`, `seed`: how many seeds, and the first integer seed.
        - `t_max`, `n_points`: the recorded times t = lr * steps in [0, t_max], as in `theory`.
        - `dtype`: 'float64' (default) or 'float32'.

        **Returns:** a Dataset over (`seed`, `t`) with the variables of the class docstring (NaN after a
        divergence), `weight_distance` (seed, t), `W1_init` (seed, k, i), `W2_init` (seed, o, k), `diverged`
        (seed) and `t_diverged` (seed).
        """
        from hild.families.deep_linear.simulate import simulate
        return simulate(self, n_samples=n_samples, seeds=seeds, t_max=t_max, seed=seed, n_points=n_points,
                        dtype=dtype)

    def figure(self, theory, simulation, title: str = ""):
        """Modes, loss and NTK movement: theory lines, simulation seed means as dots."""
        from hild.families.deep_linear.figure import figure
        lam = self.lam if isinstance(self.lam, float) else ",".join(f"{x:g}" for x in self.lam)
        return figure(theory, simulation, title=title or f"deep linear {self.d_in}→{self.width}→{self.d_out}, "
                      f"init {self.init}, λ = {lam}, lr = {self.lr:g}")


def balanced_weights(u0, lam, lr_scales, O, U, V):
    """W1 = sum_a a_a O_a V_a^T, W2 = sum_a b_a U_a O_a^T with a_a b_a = u0_a and b^2/rho2 - a^2/rho1 = lam.

    Hidden units beyond d_in (d_out) have a = 0 (b = 0) and carry the imbalance alone.

    **Arguments:** `u0` (width,) >= 0: the mode products; `lam`: a number or (width,); `lr_scales`: (rho1, rho2);
    `O` (width, width): the hidden basis; `U` (d_out, d_out), `V` (d_in, d_in): the output and input bases.

    **Returns:** (W1 (width, d_in), W2 (d_out, width)), float64."""
    rho1, rho2 = lr_scales
    c = np.sqrt(rho1 * rho2)
    lam = np.asarray(lam, float)
    h, din, dout = O.shape[0], V.shape[0], U.shape[0]
    u0 = np.where((np.arange(h) < din) & (np.arange(h) < dout), u0, 0.0)
    at, bt = mode_weights(u0, c * lam)  # the unit-rate problem (see hild.deep_linear.riccati)
    a, b = at * np.sqrt(rho1 / c), bt * np.sqrt(rho2 / c)
    k1, k2 = min(h, din), min(h, dout)
    return (O[:, :k1] * a[:k1]) @ V[:, :k1].T, (U[:, :k2] * b[:k2]) @ O[:, :k2].T

