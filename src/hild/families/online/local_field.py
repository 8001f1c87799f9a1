"""The scenario base of every local-field model: one rule and one input model give theory and simulation.

A model (the RL perceptron, curriculum learning, label attacks, the perceptron rules ...) states
its learning rule (`rule()`, hild.families.online.rule), its inputs (`inputs(t_max)`,
hild.families.online.inputs), its numbers (`parameters()`), its start in the literature's order
parameters (`start(init)`) and what it reports (`observe(state, p)`). `LocalField` derives the rest:
the ODEs of the overlaps (hild.families.online.drift: the rule's closed-form moments where it has
them, Gauss-Hermite cubature otherwise, its error estimated and reported), their integration, the
same rule run at finite d (hild.families.online.field_sim), and results with the same variables.
"""
from __future__ import annotations

import json
from typing import ClassVar

import numpy as np

from hild.core import Blowup, Scenario, lazy
from hild.core import validation as check
from hild.core.resources import Need, array

jax = lazy.module("jax")
jnp = lazy.module("jax.numpy")
xr = lazy.module("xarray")

EXPECTATIONS = ("auto", "closed", "cubature")
BLOWUP = 1e4
"""The default of LocalField.blowup_bound."""


class LocalField(Scenario):
    """Base class of the scenarios of local-field rules (see the module docstring).

    Subclasses are frozen keyword-only dataclasses that define `rule`, `inputs`, `parameters`, `start`,
    `observe` and `example`, and the class attributes `variables` (what observe returns),
    `variable_dims` (the unit dimensions of non-scalar variables) and `init_names` (what `init` takes).

    **Arguments:** a subclass's own dataclass fields.

    **Returns** (its theory and simulation): Datasets over `t` holding `variables`.
    """

    axis = "t"
    size = "d"
    variables: ClassVar[tuple[str, ...]] = ()
    variable_dims: ClassVar[dict] = {}
    init_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "divergence" not in cls.__dict__ and cls.variables:
            cls.divergence = Blowup(tuple(cls.variables), np.inf)  # flags what is not finite

    # --- what a model defines -----------------------------------------------------------------------
    def rule(self):
        raise NotImplementedError(f"{type(self).__name__} must define rule()")

    def inputs(self, t_max: float):
        raise NotImplementedError(f"{type(self).__name__} must define inputs(t_max)")

    def parameters(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define parameters()")

    def start(self, init: dict | None) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define start(init)")

    def observe(self, state, p) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define observe(state, p)")

    def blowup_bound(self, t_max: float) -> float:
        """A theory run stops as diverged once a squared norm Q_kk passes this x max(1, Q_kk(0), G_jj): BLOWUP;
        a model whose norms grow without bound by design (Hebbian terms: Q ~ t^2) raises it."""
        return BLOWUP

    # --- shared machinery ---------------------------------------------------------------------------
    def _params(self, t_max: float, start: dict) -> dict:
        inputs = self.inputs(t_max)
        arrays = inputs.arrays()
        scale = max(1.0, float(np.max(np.diagonal(np.asarray(start["Q"]).sum(0)))),
                    float(np.max(np.diagonal(arrays["gram"].sum(0)), initial=0.0)))
        return {**self.parameters(), "inputs": arrays, "blowup": self.blowup_bound(t_max) * scale}

    def _start(self, init) -> dict:
        if init is not None and not isinstance(init, dict):
            raise ValueError(f"init must be None or a dict of {', '.join(self.init_names)}; got {type(init).__name__}")
        if init is not None:
            unknown = sorted(set(init) - set(self.init_names))
            if unknown:
                raise ValueError(f"init takes {', '.join(self.init_names)}; got unknown {', '.join(unknown)}")
        state = self.start(init)
        return {k: np.asarray(state[k], float) for k in ("Q", "S", "theta")}

    def _method(self, expectations: str) -> str:
        if expectations not in EXPECTATIONS:
            raise ValueError(f"expectations must be one of {', '.join(map(repr, EXPECTATIONS))}; got {expectations!r}")
        has_closed = self.rule().moments is not None
        if expectations == "closed" and not has_closed:
            raise ValueError(f"expectations: {type(self).__name__} has no closed-form moments; use 'cubature' or 'auto'")
        return "closed" if expectations == "auto" and has_closed else ("cubature" if expectations == "auto" else expectations)

    def check_theory(self, t_max=10.0, n_points=101, init=None, rtol=1e-8, atol=1e-11, expectations="auto", nodes=None):
        check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        check.integer("n_points", n_points, 2)
        check.real("rtol", rtol, minimum=0.0, strict_minimum=True)
        check.real("atol", atol, minimum=0.0, strict_minimum=True)
        self._method(expectations)
        self._start(init)
        if nodes is not None:
            check.integer("nodes", nodes, 3)

    def theory_needs(self, t_max=10.0, n_points=101, init=None, rtol=1e-8, atol=1e-11, expectations="auto", nodes=None):
        from hild.families.online import drift

        rule = self.rule()
        if self._method(expectations) == "closed" and nodes is None:
            return []
        n = drift.check_points(rule, nodes or drift.nodes_for(rule))
        width = rule.episode * (rule.K + rule.F) + rule.n_aux + rule.K
        return [Need("the cubature points of one drift evaluation", ("nodes",),
                     bytes=array(n, width, self.inputs(t_max).components, 3))]

    def theory(self, t_max: float = 10.0, n_points: int = 101, init=None, rtol: float = 1e-8, atol: float = 1e-11,
               expectations: str = "auto", nodes: int | None = None):
        """Integrate the order-parameter ODEs to t_max (hild.families.online.drift).

        **Arguments:**
        - `t_max`, `n_points`: the time grid, n_points even times in [0, t_max].
        - `init`: None (the model's default start) or a dict of the order parameters in `init_names`.
        - `rtol`, `atol`: the adaptive solver's tolerances.
        - `expectations`: 'closed' (the rule's closed-form moments), 'cubature' (Gauss-Hermite), or 'auto'
          (closed where the rule has them).
        - `nodes`: cubature nodes per axis (default: the most within moments.POINTS points).

        **Returns:** a Dataset over `t` with the model's `variables`; attrs `expectations`, `nodes` and
        `cubature_error` (the largest relative change of the drift over the run against a rule with two nodes
        fewer per axis, or, for closed forms, against the cubature; NaN where that cubature would have fewer than
        drift.CHECK_NODES nodes per axis within moments.POINTS points, e.g. long RL episodes), and the divergence flags.
        """
        return self.solve([self._start(init)], t_max, n_points, rtol, atol, expectations, nodes)

    def solve(self, starts, t_max: float = 10.0, n_points: int = 101, rtol: float = 1e-8, atol: float = 1e-11,
              expectations: str = "auto", nodes: int | None = None, scenarios=None, ts=None):
        """The ODEs from engine states (`starts`, one per run) in one compiled call: of this scenario, or of
        `scenarios` (one per start, all with this rule and input shapes), on n_points even times in
        [0, t_max] or on the times `ts`. One start gives a Dataset over t; more, one along a new dimension
        `scenario`."""
        from hild.families.online import drift

        scenarios = list(scenarios or [self] * len(starts))
        method = self._method(expectations)
        rule = self.rule()
        nodes = nodes or drift.nodes_for(rule)
        ps = [s._params(t_max, st) for s, st in zip(scenarios, starts)]
        ts = np.linspace(0.0, float(t_max), int(n_points)) if ts is None else np.asarray(ts, float)
        stack = lambda trees: jax.tree.map(lambda *a: jnp.asarray(np.stack(a), jnp.float64), *trees)  # noqa: E731
        with jax.enable_x64(True):
            params = stack(ps)
            ys, stopped, ok, t_end = drift.integrate(rule, stack(starts), params, ts, method, nodes, rtol, atol)
            if method == "cubature" or nodes >= drift.CHECK_NODES:
                errors = drift.cubature_error(rule, ys, ts, params, nodes, method)
            else:  # the cubature that would check the closed form is too coarse to mean anything, or too large
                errors = np.full(len(starts), np.nan)
            results = []
            for i, (scenario, start, p) in enumerate(zip(scenarios, starts, ps)):
                y = jax.tree.map(lambda a: a[i], ys)
                if not bool(ok[i]):
                    raise RuntimeError(f"{self.model} theory: the ODE solver stopped at t = {float(t_end[i]):.4g} of "
                                       f"{t_max:g} (step budget spent); lower t_max or loosen rtol")
                ds = scenario._dataset(scenario._observed(y, p), ts, seeds=None)
                ds.attrs.update(scenario.provenance(
                    "theory", "float64", expectations=method, nodes=int(nodes), cubature_error=float(errors[i]),
                    rtol=rtol, atol=atol, start=json.dumps({k: np.asarray(v).tolist() for k, v in start.items()})))
                results.append(ds)
        if len(results) == 1:
            return results[0]
        out = xr.concat(results, "scenario", coords="minimal", compat="override", combine_attrs="drop_conflicts")
        return out.assign_coords(scenario=np.arange(len(results)))

    @classmethod
    def theory_batch(cls, scenarios, t_max: float = 10.0, n_points: int = 101, inits=None, rtol: float = 1e-8,
                     atol: float = 1e-11, expectations: str = "auto", nodes: int | None = None):
        """The ODEs of many scenarios of one `batch_key` in one compiled call, along a dimension `scenario`."""
        scenarios = list(scenarios)
        if not scenarios:
            raise ValueError("scenarios must hold at least one scenario")
        if len({s.batch_key() for s in scenarios}) > 1:
            raise ValueError("theory_batch: the scenarios must share one batch_key (rule and input shapes)")
        inits = list(inits) if inits is not None else [None] * len(scenarios)
        for s, init in zip(scenarios, inits):
            s.check_theory(t_max=t_max, n_points=n_points, init=init, rtol=rtol, atol=atol, expectations=expectations,
                           nodes=nodes)
        starts = [s._start(init) for s, init in zip(scenarios, inits)]
        out = scenarios[0].solve(starts, t_max, n_points, rtol, atol, expectations, nodes, scenarios=scenarios)
        if len(scenarios) == 1:
            out = out.expand_dims(scenario=[0])
        return out

    def _observed(self, ys, p) -> dict:
        """observe() over the leading axes of the recorded states (time, or seed and time)."""
        lead = ys["Q"].ndim - 3
        f = lambda y: self.observe(y, p)  # noqa: E731
        for _ in range(lead):
            f = jax.vmap(f)
        return {k: np.asarray(v, float) for k, v in f(ys).items()}

    def _dataset(self, values: dict, t: np.ndarray, seeds) -> xr.Dataset:
        lead = ("t",) if seeds is None else ("seed", "t")
        data, coords = {}, {"t": t}
        for name in self.variables:
            dims = lead + tuple(self.variable_dims.get(name, ()))
            data[name] = (dims, values[name])
            for dim, n in zip(dims[len(lead):], values[name].shape[len(lead):]):
                coords.setdefault(dim, np.arange(n))
        if seeds is not None:
            coords["seed"] = seeds
        ds = xr.Dataset(data, coords=coords)
        from hild.core import divergence
        return divergence.check(ds, "t", self.divergence)

    def check_simulation(self, d=500, seeds=1, t_max=10.0, seed=0, n_points=101, init=None, dtype="float32",
                         progress=False):
        from hild.families.online.field_sim import minimum_d

        rule = self.rule()
        check.integer("d", d, minimum_d(rule.K, rule.F, self.inputs(float(t_max)).fractions))
        check.seeds(seeds, seed)
        check.real("t_max", t_max, minimum=0.0, strict_minimum=True)
        check.integer("n_points", n_points, 2)
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
        self._start(init)

    def simulation_needs(self, d=500, seeds=1, t_max=10.0, seed=0, n_points=101, init=None, dtype="float32",
                         progress=False):
        rule = self.rule()
        size = np.dtype(dtype).itemsize
        steps = float(d) * float(t_max)
        return [Need("the weights and fixed vectors of every seed", ("d", "seeds"),
                     bytes=array(seeds, rule.K + rule.F, d, itemsize=size)),
                Need("the recorded overlaps", ("seeds", "n_points"), result=True,
                     bytes=array(seeds, n_points, (rule.K + rule.F) ** 2 + len(self.variables), 4)),
                Need("online learning, steps x d x (K + F)", ("d", "t_max", "seeds"),
                     operations=4.0 * steps * seeds * rule.episode * d * (rule.K + rule.F))]

    def simulate(self, d: int = 500, seeds: int = 1, t_max: float = 10.0, seed: int = 0, n_points: int = 101,
                 init=None, dtype: str = "float32", progress: bool = False):
        """The rule run online at dimension d (hild.families.online.field_sim), for `seeds` seeds.

        **Arguments:** `d`, `seeds`, `seed` (the first seed), `t_max` and `n_points` (the recorded times,
        whole steps apart), `init` (as for `theory`; the start is built with exactly these overlaps),
        `dtype` ('float32' or 'float64'), `progress`.

        **Returns:** a Dataset over `seed` and `t` with the model's `variables`, the divergence flags and the
        standard attributes; attrs `start` (the engine's start, which `matching_theory` reuses).
        """
        from hild.families.online import field_sim

        start = self._start(init)
        p = self._params(t_max, start)
        rec, t, facts = field_sim.run(self.rule(), start, p, int(d), int(seeds), int(seed), float(t_max),
                                      int(n_points), dtype, progress, label=self.model)
        with jax.enable_x64(True):
            values = self._observed(jax.tree.map(jnp.asarray, rec), jax.tree.map(jnp.asarray, p))
        seed_list = list(range(seed, seed + seeds))
        ds = self._dataset(values, t, seeds=seed_list)
        ds.attrs.update(self.provenance("simulation", dtype, seeds=seed_list, size=d,
                                        start=json.dumps({k: v.tolist() for k, v in start.items()}), **facts))
        return ds

    def matching_theory(self, simulation, **options):
        """The theory from the simulation's own start (its attrs `start`, the exact overlaps it was built with), on
        the simulation's recorded times."""
        start = {k: np.asarray(v, float) for k, v in json.loads(simulation.attrs["start"]).items()}
        t = simulation.t.values
        options = {k: v for k, v in options.items() if k not in ("t_max", "n_points")}  # the simulation's times
        return self.solve([start], float(t[-1]), t.size, ts=t, **options)

    def batch_key(self):
        """Scenarios of one model, one rule and equal array shapes share a compiled theory call."""
        start = self._start(None)
        shapes = jax.tree.map(np.shape, self._params(1.0, start))
        return (type(self).__qualname__, self.rule(), json.dumps(shapes, sort_keys=True, default=str))
