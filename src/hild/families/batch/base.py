"""What the batch family's point scenarios share: theory from the replica fixed point (hild.families.batch.glm)
at one parameter point, batched theory over many points (one compiled call, continuation along alpha where the
points form a grid), the convergence status on every result (hild.core.divergence.unconverged), and the figure."""
from __future__ import annotations

import json
from typing import ClassVar, Sequence

import numpy as np

from hild.core import Scenario, lazy
from hild.core import validation as check
from hild.core.divergence import check as check_divergence, unconverged
from hild.core.resources import Need, array
from hild.families.batch import glm, solver
from hild.families.batch.prox import Loss

xr = lazy.module("xarray")

STATUS = ("converged", "residual", "iterations")
LAM_PATH = 8
"""Points of the ridge path of a single theory call with continuation: lam from max(1, lam) down to lam (always
this many, so that every single point shares one compiled shape)."""


class FixedPointScenario(Scenario):
    """A point scenario whose theory is one replica fixed point. Subclasses define `_loss()`, `_channel()`,
    `_spectrum()` (a glm.Spectrum) and `_point()` -> (alpha per student weight, lam, noise), and may rename the
    theory's variables with `_finish(ds)`."""

    axis: ClassVar[str | None] = None
    size: ClassVar[str] = "d"

    def _loss(self) -> Loss:
        raise NotImplementedError

    def _channel(self) -> str:
        raise NotImplementedError

    def _spectrum(self) -> glm.Spectrum:
        raise NotImplementedError

    def _point(self) -> tuple[float, float, float]:
        raise NotImplementedError

    def _finish(self, ds: xr.Dataset) -> xr.Dataset:
        return ds

    @staticmethod
    def _settings(max_iter: int = 500, tol: float = 1e-9) -> solver.Settings:
        return solver.Settings(max_iter=check.integer("max_iter", max_iter, 1),
                               tol=check.real("tol", tol, 0.0, strict_minimum=True))

    def check_theory(self, **options) -> None:
        super().check_theory(**options)
        self._settings(options.get("max_iter", 500), options.get("tol", 1e-9))

    def theory_needs(self, **_) -> list[Need]:
        K = len(self._spectrum().omega)
        return [Need("the channel's Gauss-Hermite sums and the spectrum", (),
                     array(LAM_PATH, NODES_TOTAL + K, 8), operations=LAM_PATH * 500.0 * 100 * (NODES_TOTAL + K))]

    def theory(self, continuation: bool = True, max_iter: int = 500, tol: float = 1e-9) -> xr.Dataset:
        """The fixed point at this point (float64): m, q, V, their conjugates mhat, qhat, Vhat, eg, train_error,
        train_loss, test_loss, and the solve's status converged, residual, iterations (unconverged: every
        other float NaN). `continuation`: solved along a ridge path lam = max(1, lam) ... lam (LAM_PATH points,
        each from its converged predecessor); False: from the fixed starting points only. `max_iter`, `tol`:
        per start (solver.Settings)."""
        alpha, lam, noise = self._point()
        lams = np.geomspace(max(1.0, lam), lam, LAM_PATH)[None] if continuation else np.array([[lam]])
        out = glm.fixed_points(self._loss(), self._channel(), self._spectrum(), alpha, lams, noise,
                               self._settings(max_iter, tol), continuation=continuation)
        ds = xr.Dataset({k: ((), v[0, -1]) for k, v in out.items()})
        ds["iterations"] = ((), out["iterations"][0].sum())
        return self._result(ds)

    def _result(self, ds: xr.Dataset) -> xr.Dataset:
        ds = ds.assign_attrs(self.provenance("theory", dtype="float64", solver="damped Anderson fixed point "
                                             "(hild.families.batch.solver)"))
        converged = ds["converged"]
        ds = unconverged(ds.drop_vars("converged"), converged)
        return self._finish(check_divergence(ds, None, None))

    def batch_key(self):
        return (type(self).__name__, repr(self._loss()), self._channel(), len(self._spectrum().omega))

    @classmethod
    def theory_batch(cls, scenarios: Sequence["FixedPointScenario"], continuation: bool = True,
                     max_iter: int = 500, tol: float = 1e-9) -> xr.Dataset:
        """The fixed points of many scenarios of one `batch_key` in one compiled call, along `scenario`. Where
        they form a full grid of alpha x (everything else), each row is solved along increasing alpha from its
        converged neighbour (continuation); otherwise every point from the starting points."""
        scenarios = list(scenarios)
        if not scenarios:
            raise ValueError("scenarios must hold at least one scenario")
        keys = {s.batch_key() for s in scenarios}
        if len(keys) > 1:
            raise ValueError(f"scenarios must share one batch_key; got {sorted(map(str, keys))}")
        settings = cls._settings(max_iter, tol)
        points = np.array([s._point() for s in scenarios])
        spectra = [s._spectrum() for s in scenarios]
        rest = [tuple(np.round(points[i, 1:], 14)) + (tuple(spectra[i].omega), tuple(spectra[i].teacher),
                                                      spectra[i].rho) for i in range(len(scenarios))]
        rows = list(dict.fromkeys(rest))
        alphas = np.unique(points[:, 0])
        grid = continuation and len(rows) * len(alphas) == len(scenarios) and len(set(zip(rest, points[:, 0]))) == \
            len(scenarios)
        if grid:
            first = [rest.index(r) for r in rows]
            index = {(rest[i], points[i, 0]): i for i in range(len(scenarios))}
            order = np.array([[index[(r, a)] for a in alphas] for r in rows])
        else:
            order = np.arange(len(scenarios))[:, None]
            first = list(range(len(scenarios)))
        spectrum = glm.Spectrum(*(np.stack([getattr(spectra[i], f) for i in first]) for f in ("omega", "teacher",
                                                                                              "weight")),
                                np.array([spectra[i].rho for i in first]))
        out = glm.fixed_points(scenarios[0]._loss(), scenarios[0]._channel(), spectrum, points[order, 0],
                               points[order, 1], points[order, 2], settings, continuation=grid)
        flat = np.empty(len(scenarios), int)
        flat[order.ravel()] = np.arange(order.size)
        ds = xr.Dataset({k: ("scenario", v.ravel()[flat]) for k, v in out.items()},
                        coords={"scenario": np.arange(len(scenarios))})
        ds = scenarios[0]._result(ds)
        return ds.assign_attrs(points=[json.dumps(s.params) for s in scenarios], continuation=str(grid))

    def figure(self, theory, simulation, title=""):
        """m, q, eg and the training error: the simulation's seeds (mean +- 1 s.e.) against the fixed point
        (hild.plot.at_point)."""
        from hild.plot import at_point, scenario_title

        return at_point(theory, simulation, variables=["m", "q", "eg", "train_error"],
                        title=title or scenario_title(self))


NODES_TOTAL = glm.NODES["omega"] * glm.NODES["y"]


def seeds_of(seeds, seed) -> list[int]:
    seeds, seed = check.integer("seeds", seeds, 1), check.integer("seed", seed, 0)
    return list(range(seed, seed + seeds))
