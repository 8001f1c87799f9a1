"""Neural Mechanics (Kunin et al., arXiv 2012.04728): symmetries, conservation laws, and how weight decay
and a finite learning rate break them.

A parameter group theta_A with a symmetry of the loss has a gradient constraint at every theta:

* translation, L(theta_A + c 1) = L            =>  1 . g_A = 0            (softmax logit biases; columns of
  the last layer, adding c h_j to every logit);
* scale,       L(alpha theta_A) = L (alpha > 0)  =>  theta_A . g_A = 0      (the incoming weights of a unit
  followed by batch normalisation);
* rescale,     L(alpha theta_A, theta_B / alpha) = L  =>  theta_A . g_A = theta_B . g_B  (incoming and outgoing
  weights of a ReLU unit).

The constraints hold for every minibatch loss, so SGD with weight decay lambda and learning rate eta,
theta_{k+1} = (1 - eta lambda) theta_k - eta g_k (g_k the minibatch gradient of the data loss), gives the
EXACT discrete laws [derived here; the cross terms vanish by the constraints]

    1 . theta_A(k+1)      = (1 - eta lambda)   1 . theta_A(k)
    ||theta_A(k+1)||^2    = (1 - eta lambda)^2 ||theta_A(k)||^2 + eta^2 ||g_A(k)||^2
    Q_AB(k+1)             = (1 - eta lambda)^2 Q_AB(k) + eta^2 (||g_A(k)||^2 - ||g_B(k)||^2),
    Q_AB = ||theta_A||^2 - ||theta_B||^2.

With t = eta k they become the paper's integral forms, Q(t) = e^{-r t} Q(0) + eta int_0^t e^{-r (t - tau)}
G(tau) dtau with G = ||g_A||^2 (scale) or ||g_A||^2 - ||g_B||^2 (rescale), and 1.theta_A(t) = e^{-r t / 2}
1.theta_A(0). The paper's kernel has r = 2 lambda (correct to first order in eta). Its modified gradient
flow dtheta/dt = -(g + lambda theta) - (eta/2)(H + lambda)(g + lambda theta), with the Hessian identities
H 1 = 0, H theta_A = -g_A, H D theta = -D g (D = diag(1_A, -1_B)) from differentiating the constraints,
gives exactly r = 2 lambda + eta lambda^2 [derived here], the O(eta) term of -2 log(1 - eta lambda) / eta,
i.e. the discrete law to second order. Gradient flow (eta -> 0) conserves 1.theta_A, ||theta_A||^2 and
Q_AB at lambda = 0; the finite-eta drift is eta int G, proportional to eta.

`train` runs minibatch SGD with weight decay on one network that has all three symmetries,

    x (d) -> W1 (h1 x d) -> batch normalisation (per unit, over the minibatch, no affine, no epsilon)
      -> ReLU -> W2 (h2 x h1) -> ReLU -> W3 (c x h2) + b3 -> softmax cross-entropy,

on a seeded synthetic classification task (x ~ N(0, I_d), labels argmax of a random linear teacher), and
records at every step the symmetric quantities and the squared gradient norms that drive them.

The scenario `NeuralMechanics` (model `deep_linear.mechanics`) compares SGD at one weight decay with the
gradient-flow laws Q(t) = e^{-2 lambda t} Q(0), 1.theta_A(t) = e^{-lambda t} 1.theta_A(0) along t; its size
parameter is `steps_per_time` = 1/lr, since the drift from those laws is eta int G = O(1/steps_per_time).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from hild.core import Blowup, Scenario, lazy, register
from hild.core import validation as check
from hild.core.resources import Need, array
from hild.core.divergence import check as check_divergence

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")
scipy_signal = lazy.module("scipy.signal")

LR_CONVENTION = "theta <- (1 - lr * weight_decay) theta - lr * g, g the minibatch mean gradient; t = lr * step"


def _loss(params, X, Y):
    W1, W2, W3, b3 = params
    z = X @ W1.T
    z = z - z.mean(0)
    z = z / jnp.sqrt((z ** 2).mean(0))
    h2 = jax.nn.relu(jax.nn.relu(z) @ W2.T)
    logits = h2 @ W3.T + b3
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), Y[:, None], axis=1))


def _measure(params, grads):
    W1, W2, W3, b3 = params
    g1, g2, g3, _ = grads
    return {"scale_norm2": (W1 ** 2).sum(1), "scale_grad2": (g1 ** 2).sum(1),
            "rescale_unit": (W2 ** 2).sum(1) - (W3 ** 2).sum(0),
            "rescale_unit_grad": (g2 ** 2).sum(1) - (g3 ** 2).sum(0),
            "rescale_unit_size": (W2 ** 2).sum(1) + (W3 ** 2).sum(0),
            "rescale_layer": (W2 ** 2).sum() - (W3 ** 2).sum(),
            "rescale_layer_grad": (g2 ** 2).sum() - (g3 ** 2).sum(),
            "translation_bias": b3.sum(), "translation_columns": W3.sum(0)}


def _one(params, X, Y, lr, wd, key, steps: int, batch: int):
    def step(p, k):
        idx = jax.random.choice(k, X.shape[0], (batch,), replace=False)
        loss, g = jax.value_and_grad(_loss)(p, X[idx], Y[idx])
        rec = _measure(p, g)
        rec["loss"] = loss
        return jax.tree.map(lambda a, b: (1 - lr * wd) * a - lr * b, p, g), rec

    final, recs = jax.lax.scan(step, params, jax.random.split(key, steps))
    zero = jax.tree.map(jnp.zeros_like, final)
    last = _measure(final, zero)
    return {k: jnp.concatenate([v, last[k][None]]) if k in last else v for k, v in recs.items()}


@functools.lru_cache(maxsize=8)
def _runner(steps: int, batch: int):
    return jax.jit(jax.vmap(functools.partial(_one, steps=steps, batch=batch)))


def _recorded(params, X, Y, lr, wd, key, steps, n_rec: int, batch: int):
    """`steps` SGD steps recording the symmetric quantities at steps (r steps) // n_rec, r = 0 .. n_rec
    (`steps` traced, so that every learning rate shares one compilation); step j's minibatch from
    fold_in(key, j)."""
    def step(j, p):
        idx = jax.random.choice(jax.random.fold_in(key, j), X.shape[0], (batch,), replace=False)
        g = jax.grad(_loss)(p, X[idx], Y[idx])
        return jax.tree.map(lambda a, b: (1 - lr * wd) * a - lr * b, p, g)

    def record(p, r):
        p = jax.lax.fori_loop(r * steps // n_rec, (r + 1) * steps // n_rec, step, p)
        return p, _measure(p, jax.tree.map(jnp.zeros_like, p))

    _, recs = jax.lax.scan(record, params, jnp.arange(n_rec))
    first = _measure(params, jax.tree.map(jnp.zeros_like, params))
    return {k: jnp.concatenate([first[k][None], recs[k]]) for k in LAWS}


@functools.lru_cache(maxsize=8)
def _recorder(n_rec: int, batch: int):
    return jax.jit(jax.vmap(functools.partial(_recorded, n_rec=n_rec, batch=batch),
                            in_axes=(0, 0, 0, None, None, 0, None)))


def _task(seed: int, d: int, h1: int, h2: int, classes: int, n: int):
    rng = np.random.default_rng([seed, 2012])
    X = rng.standard_normal((n, d))
    Y = np.argmax(X @ rng.standard_normal((d, classes)), axis=1)
    params = (rng.standard_normal((h1, d)) / np.sqrt(d), rng.standard_normal((h2, h1)) * np.sqrt(2 / h1),
              rng.standard_normal((classes, h2)) / np.sqrt(h2), rng.standard_normal(classes))
    return X, Y, params


def train(lrs=(0.1,), weight_decays=(0.0,), steps: int = 1000, seeds: int = 1, seed: int = 0, d: int = 16,
          widths=(16, 16), classes: int = 4, n_samples: int = 256, batch_size: int = 16) -> xr.Dataset:
    """Minibatch SGD with weight decay on the symmetric network, every (lr, weight_decay, seed) in one
    compiled, vmapped `lax.scan` (float64). Seed s (integer seeds seed, seed + 1, ...) draws the data and the
    initial weights from NumPy's PCG64 and the minibatches (without replacement) from jax.random.key(s);
    the same seed gives the same data, start and batches at every lr and weight decay.

    Returns dims (lr, weight_decay, seed, step) with step = 0..steps for quantities (before the step) and
    0..steps-1 for gradient norms (the last entry NaN); t = lr * step is the coordinate `t` (lr, step).
    Variables: scale_norm2 / scale_grad2 (unit1: ||W1 row||^2, ||g||^2), rescale_unit / rescale_unit_grad /
    rescale_unit_size (unit2: ||W2 row j||^2 -+ ||W3 column j||^2 and the gradient difference),
    rescale_layer / rescale_layer_grad (||W2||^2 - ||W3||^2), translation_bias (1 . b3), translation_columns
    (unit2: 1 . W3[:, j]), loss (minibatch).

    **Arguments:** `lrs` (> 0), `weight_decays` (>= 0; lr * weight_decay < 1): numbers or sequences; `steps`
    (>= 1); `seeds` (>= 1), `seed` (>= 0); `d` (>= 1); `widths` (two integers >= 1); `classes` (>= 2); `n_samples`
    (>= 2); `batch_size` (in [2, n_samples]).

    **Returns:** a Dataset over (lr, weight_decay, seed, step) with the variables above and the coordinate `t`.
    """
    lrs = [check.real("lrs", x, minimum=0.0, strict_minimum=True) for x in np.atleast_1d(lrs).tolist()]
    wds = [check.real("weight_decays", x, minimum=0.0) for x in np.atleast_1d(weight_decays).tolist()]
    steps = check.integer("steps", steps, 1)
    seeds = check.integer("seeds", seeds, 1)
    seed = check.integer("seed", seed, 0)
    d = check.integer("d", d, 1)
    if len(widths) != 2:
        raise ValueError(f"widths must be two integers >= 1 (h1, h2); got {widths!r}")
    h1, h2 = (check.integer("widths", w, 1) for w in widths)
    classes = check.integer("classes", classes, 2)
    n_samples = check.integer("n_samples", n_samples, 2)
    batch_size = check.integer("batch_size", batch_size, 2)
    if batch_size > n_samples:
        raise ValueError(f"batch_size must be an integer in [2, n_samples = {n_samples}]; got {batch_size}")
    for lr in lrs:
        for wd in wds:
            if lr * wd >= 1:
                raise ValueError(f"lrs * weight_decays must be < 1; got lr {lr:g} and weight decay {wd:g}")
    seed_list = list(range(seed, seed + seeds))
    tasks = [_task(s, d, h1, h2, classes, n_samples) for s in seed_list]
    grid = [(lr, wd, j) for lr in lrs for wd in wds for j in range(seeds)]
    with jax.enable_x64(True):
        stack = lambda f: jnp.asarray(np.stack([f(tasks[j]) for _, _, j in grid]))  # noqa: E731
        params = tuple(stack(lambda t, i=i: t[2][i]) for i in range(4))
        out = _runner(steps, batch_size)(params, stack(lambda t: t[0]), stack(lambda t: t[1]),
                                         jnp.asarray([g[0] for g in grid]), jnp.asarray([g[1] for g in grid]),
                                         jnp.stack([jax.random.key(seed_list[j]) for _, _, j in grid]))
        out = {k: np.asarray(v, np.float64) for k, v in out.items()}
    shape = (len(lrs), len(wds), seeds)
    unit = {"scale_norm2": "unit1", "scale_grad2": "unit1", "rescale_unit": "unit2", "rescale_unit_grad": "unit2",
            "rescale_unit_size": "unit2", "translation_columns": "unit2"}
    data = {}
    for k, v in out.items():
        v = v.reshape(shape + v.shape[1:])
        if v.shape[3] == steps:  # gradients: pad the last step
            v = np.concatenate([v, np.full(shape + (1,) + v.shape[4:], np.nan)], axis=3)
        data[k] = (("lr", "weight_decay", "seed", "step") + ((unit[k],) if k in unit else ()), v)
    ds = xr.Dataset(data, coords={"lr": lrs, "weight_decay": wds, "seed": seed_list, "step": np.arange(steps + 1)})
    ds = ds.assign_coords(t=(("lr", "step"), np.outer(lrs, np.arange(steps + 1))))
    from hild import __version__
    params = {"d": d, "widths": [h1, h2], "classes": classes, "n_samples": n_samples, "batch_size": batch_size,
              "steps": steps}
    return ds.assign_attrs(model="deep_linear.mechanics", kind="simulation", params=json.dumps(params),
                           hild_version=__version__, convention=LR_CONVENTION, seeds=seed_list, dtype="float64",
                           paper="arXiv 2012.04728")


def _check_law(lr, weight_decay):
    lr = check.real("lr", lr, minimum=0.0, strict_minimum=True)
    weight_decay = check.real("weight_decay", weight_decay, minimum=0.0)
    if lr * weight_decay >= 1:
        raise ValueError(f"lr * weight_decay must be < 1; got {lr * weight_decay:g}")
    return lr, weight_decay


def discrete_law(q0, grad2, lr: float, weight_decay: float, kind: str = "norm") -> np.ndarray:
    """The exact SGD law unrolled along the last axis: q_{k+1} = a q_k + eta^2 G_k with a = (1 - eta lambda)^2
    (kind 'norm': scale or rescale; grad2 = G_0..G_{K-1}) or q_{k+1} = (1 - eta lambda) q_k (kind
    'translation'; grad2 only sets K).

    **Arguments:** `q0`: the initial values (...); `grad2`: G_0..G_{K-1} (..., K); `lr` (> 0), `weight_decay`
    (>= 0; lr * weight_decay < 1); `kind`: 'norm' or 'translation'.

    **Returns:** q_0..q_K, a float64 array (..., K + 1)."""
    lr, weight_decay = _check_law(lr, weight_decay)
    q0, G = np.asarray(q0, float), np.asarray(grad2, float)
    if kind == "translation":
        return q0[..., None] * (1 - lr * weight_decay) ** np.arange(G.shape[-1] + 1)
    if kind != "norm":
        raise ValueError(f"kind must be 'norm' or 'translation'; got {kind!r}")
    a = (1 - lr * weight_decay) ** 2
    x = np.concatenate([q0[..., None], lr ** 2 * G], axis=-1)
    return scipy_signal.lfilter([1.0], [1.0, -a], x, axis=-1)


def flow_law(q0, grad2, lr: float, weight_decay: float, kind: str = "norm", rate: str = "paper") -> np.ndarray:
    """The continuous-time (integral) law at t_k = eta k from the recorded gradients:
    Q(t) = e^{-r t} Q(0) + eta int_0^t e^{-r (t - tau)} G(tau) dtau, with G(tau) = G_j on [t_j, t_j + eta) (each
    minibatch gradient acts for one step; the integral is exact for that piecewise-constant G), or for
    kind 'translation' 1.theta(t) = e^{-r t / 2} 1.theta(0). rate 'paper': r = 2 lambda (Kunin et al.);
    'modified': r = 2 lambda + eta lambda^2 (the modified flow); 'gradient_flow': r = 2 lambda and no eta
    term (the eta -> 0 limit: the conserved / purely decaying value).

    **Arguments:** `q0` (...), `grad2` (..., K), `lr`, `weight_decay`, `kind`: as in `discrete_law`; `rate`:
    'paper', 'modified' or 'gradient_flow'.

    **Returns:** Q at t_0..t_K, a float64 array (..., K + 1)."""
    lr, weight_decay = _check_law(lr, weight_decay)
    if rate not in ("paper", "modified", "gradient_flow"):
        raise ValueError(f"rate must be 'paper', 'modified' or 'gradient_flow'; got {rate!r}")
    q0, G = np.asarray(q0, float), np.asarray(grad2, float)
    t = lr * np.arange(G.shape[-1] + 1)
    r = 2 * weight_decay + (lr * weight_decay ** 2 if rate == "modified" else 0.0)
    if kind == "translation":
        return q0[..., None] * np.exp(-r * t / 2)
    if kind != "norm":
        raise ValueError(f"kind must be 'norm' or 'translation'; got {kind!r}")
    out = q0[..., None] * np.exp(-r * t)
    if rate == "gradient_flow":
        return out
    panel = -np.expm1(-r * lr) / r if r > 0 else lr  # int over one step of e^{-r (t_{j+1} - tau)}
    x = np.concatenate([np.zeros_like(q0)[..., None], lr * panel * G], axis=-1)
    return out + scipy_signal.lfilter([1.0], [1.0, -np.exp(-r * lr)], x, axis=-1)


def drift_exponent(lrs, drifts) -> float:
    """Least-squares slope of log |drift| against log lr: 1 when the drift from the gradient-flow value is
    proportional to lr (the eta -> 0 limit).

    **Arguments:** `lrs` (> 0), `drifts` (nonzero): equal-length sequences. **Returns:** the slope, a float."""
    return float(np.polyfit(np.log(np.asarray(lrs, float)), np.log(np.abs(np.asarray(drifts, float))), 1)[0])


LAWS = {"scale_norm2": ("unit1",), "rescale_unit": ("unit2",), "rescale_layer": (), "translation_bias": (),
        "translation_columns": ("unit2",)}
"""The symmetric quantities compared with their gradient-flow laws, and their unit dimensions."""


@register
@dataclass(frozen=True, kw_only=True)
class NeuralMechanics(Scenario):
    """Minibatch SGD with weight decay on the network with scale, rescale and translation symmetries
    (see the module docstring), against the gradient-flow laws of its symmetric quantities.

    weight_decay: lambda >= 0; d: input dimension; widths: (h1, h2); classes: >= 2; n_samples: the
    training set size; batch_size: the minibatch size (2 .. n_samples). Theory: the gradient-flow
    (lr -> 0) laws from each seed's initial values (Kunin et al., arXiv 2012.04728); simulation:
    SGD at lr = 1 / steps_per_time.

    Axis `t` (= lr * step); size `steps_per_time`; variables (`LAWS`): `scale_norm2` (unit1: ||W1 row||^2),
    `rescale_unit` (unit2: ||W2 row j||^2 - ||W3 column j||^2), `rescale_layer` (||W2||^2 - ||W3||^2),
    `translation_bias` (1 . b3), `translation_columns` (unit2: 1 . W3[:, j]).

    **Arguments:** `weight_decay` (>= 0, default 0.05); `d` (integer >= 1, default 8); `widths` (two integers
    >= 1, default (8, 8)); `classes` (integer >= 2, default 3); `n_samples` (integer >= 2, default 64);
    `batch_size` (integer in [2, n_samples], default 8).
    """

    weight_decay: float = 0.05
    d: int = 8
    widths: Any = (8, 8)
    classes: int = 3
    n_samples: int = 64
    batch_size: int = 8

    model = "deep_linear.mechanics"
    axis = "t"
    size = "steps_per_time"
    units = ("unit1", "unit2")
    sweepable = ("weight_decay", "d", "classes", "n_samples", "batch_size")
    convention = LR_CONVENTION + " (Kunin et al., arXiv 2012.04728)"
    divergence = Blowup(tuple(LAWS), 1e12)
    description = "Neural Mechanics: conservation laws of symmetric quantities under SGD with weight decay"
    papers = ("2012.04728",)

    def __post_init__(self):
        set_ = lambda k, x: object.__setattr__(self, k, x)  # noqa: E731 (frozen dataclass)
        set_("weight_decay", check.real("weight_decay", self.weight_decay, minimum=0.0))
        set_("d", check.integer("d", self.d, 1))
        if not isinstance(self.widths, (tuple, list)) or len(self.widths) != 2:
            raise ValueError(f"widths must be two integers >= 1 (h1, h2); got {self.widths!r}")
        set_("widths", tuple(check.integer("widths", w, 1) for w in self.widths))
        set_("classes", check.integer("classes", self.classes, 2))
        set_("n_samples", check.integer("n_samples", self.n_samples, 2))
        batch = check.integer("batch_size", self.batch_size, 2)
        if batch > self.n_samples:
            raise ValueError(f"batch_size must be an integer in [2, n_samples = {self.n_samples}]; got {batch}")
        set_("batch_size", batch)

    @classmethod
    def example(cls) -> "NeuralMechanics":
        """d = 8, widths (8, 8), 3 classes, 64 samples, batches of 8, weight decay 0.05.

        **Arguments:** none. **Returns:** a `NeuralMechanics`."""
        return cls(weight_decay=0.05, d=8, widths=(8, 8), classes=3, n_samples=64, batch_size=8)

    def unit_sizes(self) -> dict[str, int]:
        return {"unit1": self.widths[0], "unit2": self.widths[1]}

    def initial_values(self, seed: int) -> dict:
        """The symmetric quantities of seed's initial weights (as `train` draws them)."""
        _, _, params = _task(seed, self.d, *self.widths, self.classes, self.n_samples)
        with jax.enable_x64(True):
            p = tuple(jnp.asarray(x) for x in params)
            values = _measure(p, jax.tree.map(jnp.zeros_like, p))
            return {k: np.asarray(values[k], np.float64) for k in LAWS}

    def _laws(self, q0: dict, t) -> xr.Dataset:
        decay = {"norm": np.exp(-2 * self.weight_decay * t), "translation": np.exp(-self.weight_decay * t)}
        data = {k: (("t",) + LAWS[k], np.multiply.outer(decay["translation" if k.startswith("translation")
                                                               else "norm"], q0[k])) for k in LAWS}
        return xr.Dataset(data, coords={"t": t})

    def theory(self, t_max: float = 10.0, n_points: int = 101, seed: int = 0) -> xr.Dataset:
        """The gradient-flow laws from seed's initial values on t = 0 .. t_max (n_points times): Q(t) =
        e^{-2 lambda t} Q(0) for ||W1 row||^2 and the rescale differences, 1.theta(t) = e^{-lambda t} 1.theta(0)
        for the translation sums (conserved at lambda = 0).

        **Arguments:** `t_max` (> 0, default 10); `n_points` (>= 2, default 101); `seed` (>= 0): whose initial
        weights start the laws.

        **Returns:** a Dataset over `t` with the variables of `LAWS` (t, and unit1 / unit2 where they have one),
        `diverged`, `t_diverged` (never set)."""
        t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        n_points = check.integer("n_points", n_points, 2)
        seed = check.integer("seed", seed, 0)
        ds = self._laws(self.initial_values(seed), np.linspace(0.0, t_max, n_points))
        return check_divergence(ds, "t", self.divergence).assign_attrs(
            self.provenance("theory", dtype="float64", method="gradient-flow laws", seed=seed))

    def _task_floats(self) -> float:
        """Floats of one seed's task: the inputs X (n_samples x d), labels and the weights W1, W2, W3, b3."""
        (h1, h2), c, d, n = self.widths, self.classes, float(self.d), float(self.n_samples)
        return n * (d + 1 + c) + h1 * d + h2 * h1 + c * h2 + c

    def _record_floats(self) -> float:
        """Floats per recorded time of the quantities of LAWS."""
        h1, h2 = self.widths
        return h1 + 2 * h2 + 3.0

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        check.real("t_max", options["t_max"], minimum=0.0, strict_minimum=True)
        check.integer("n_points", options["n_points"], 2)
        check.integer("seed", options["seed"], 0)

    def theory_needs(self, n_points, **_) -> list[Need]:
        """The seed's task (drawn to read its initial weights) and the laws at n_points times."""
        return [Need("the task and initial weights", ("n_samples", "d"), array(self._task_floats())),
                Need("the laws at every time", ("n_points",), array(n_points, self._record_floats()), result=True)]

    def matching_theory(self, simulation, t_max: float = 10.0, n_points: int = 101) -> xr.Dataset:
        """The gradient-flow laws from every simulated seed's initial values (a `seed` dimension)."""
        parts = [self.theory(t_max=t_max, n_points=n_points, seed=int(s)) for s in simulation.seed.values]
        ds = xr.concat([p.drop_vars(["diverged", "t_diverged"]) for p in parts], "seed", combine_attrs="override")
        return check_divergence(ds.assign_coords(seed=simulation.seed.values), "t", self.divergence)

    def check_simulation(self, **arguments) -> None:
        super().check_simulation(**arguments)
        self._run_arguments(**arguments)

    def _run_arguments(self, steps_per_time=25, seeds=1, seed=0, t_max=10.0, n_points=101):
        q = check.integer("steps_per_time", steps_per_time, 5)
        if self.weight_decay >= q:
            raise ValueError(f"steps_per_time must be > weight_decay = {self.weight_decay:g} (lr * weight_decay < 1); "
                             f"got {q}")
        t_max = check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        return (q, check.integer("seeds", seeds, 1), check.integer("seed", seed, 0), t_max,
                check.integer("n_points", n_points, 2))

    def simulation_needs(self, steps_per_time, seeds, t_max, n_points, **_) -> list[Need]:
        """Every seed's task (host list, stacked copy, device and the minibatch gather), the recorded quantities;
        an SGD step costs 6 batch_size (d h1 + h1 h2 + h2 classes) operations for the minibatch gradient and, as
        measured, the time of about 2000 n_samples operations for drawing the minibatch without replacement
        (jax.random.choice permutes the whole training set) per seed."""
        (h1, h2), c, d, b = self.widths, self.classes, self.d, self.batch_size
        steps = max(1.0, float(t_max) * steps_per_time)
        records = min(float(n_points), steps + 1)
        return [Need("every seed's task and weights", ("seeds", "n_samples", "d"),
                     4 * array(seeds, self._task_floats())),
                Need("the recorded quantities", ("seeds", "n_points"), array(seeds, records, self._record_floats()),
                     result=True),
                Need("the SGD steps", ("t_max", "steps_per_time", "seeds", "n_samples"),
                     operations=seeds * steps * (6.0 * b * (d * h1 + h1 * h2 + h2 * c) + 2000.0 * self.n_samples))]

    def simulate(self, *, steps_per_time: int = 25, seeds: int = 1, seed: int = 0, t_max: float = 10.0,
                 n_points: int = 101) -> xr.Dataset:
        """SGD at lr = 1 / steps_per_time for round(t_max * steps_per_time) steps, float64: seed s draws the
        data and the start as `train` does and its minibatches from jax.random.key(s); the symmetric
        quantities are recorded at n_points (fewer if there are fewer steps) near-even steps from 0 to the last.

        **Arguments:** `steps_per_time` (the size parameter, 1/lr: an integer >= 5 and > weight_decay), `seeds`
        (>= 1), `seed` (>= 0), `t_max` (> 0, default 10), `n_points` (>= 2, default 101).

        **Returns:** a Dataset with the quantities of `LAWS` over (seed, t) and their units, with `diverged`
        (seed), `t_diverged` (seed)."""
        q, seeds, seed, t_max, n_points = self._run_arguments(steps_per_time, seeds, seed, t_max, n_points)
        steps = max(1, int(round(t_max * q)))
        n_rec = min(n_points - 1, steps)
        seed_list = list(range(seed, seed + seeds))
        tasks = [_task(k, self.d, *self.widths, self.classes, self.n_samples) for k in seed_list]
        with jax.enable_x64(True):
            stack = lambda f: jnp.asarray(np.stack([f(task) for task in tasks]))  # noqa: E731
            params = tuple(stack(lambda task, i=i: task[2][i]) for i in range(4))
            out = _recorder(n_rec, self.batch_size)(params, stack(lambda task: task[0]), stack(lambda task: task[1]),
                                                    1.0 / q, self.weight_decay, jnp.stack([jax.random.key(k)
                                                                                           for k in seed_list]), steps)
            out = {k: np.asarray(v, np.float64) for k, v in out.items()}
        data = {k: (("seed", "t") + LAWS[k], v) for k, v in out.items()}
        ds = xr.Dataset(data, coords={"seed": seed_list, "t": np.arange(n_rec + 1) * steps // n_rec / q})
        ds = check_divergence(ds, "t", self.divergence)
        return ds.assign_attrs(self.provenance("simulation", dtype="float64", seeds=seed_list, size=q, lr=1.0 / q,
                                               steps=steps))

    def figure(self, theory, simulation, title: str = ""):
        """The symmetric quantities against their gradient-flow laws."""
        from hild.families.deep_linear.figure import lines_figure
        return lines_figure(theory, simulation, {"scale_norm2": r"scale: $\|W_1$ row$\|^2$ of each unit",
                                                 "rescale_layer": r"rescale: $\|W_2\|^2 - \|W_3\|^2$",
                                                 "translation_bias": r"translation: $1 \cdot b_3$"}, "t",
                            xlabel="t = lr · step",
                            title=title or f"Neural Mechanics, weight decay {self.weight_decay:g}")
