"""The registry of paper claims: named, checkable statements run at a `quick` or `paper` size.

A claim lives beside its model, in `hild/families/<family>/claims*.py`, registered with `@claim`.
Its run (`run(size, progress) -> Outcome`) computes theory and/or simulation through the public
API and measures numbers; `reproduce` wraps the outcome in a `ClaimResult`, whose verdict holds
only when every one of its checks passes.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hild.core import lazy

xr = lazy.module("xarray")

SIZES = ("quick", "paper")


@dataclass(frozen=True)
class Check:
    """One measured number against what the paper says.

    **Arguments:** `what`: what was measured; `measured`: the number; `expected`: the paper's value or bound, as
    text; `passed`: whether the number meets it. `at_most`, `at_least`, `within`, `between` build one."""

    what: str
    measured: float
    expected: str
    passed: bool

    def as_dict(self) -> dict:
        measured = self.measured if math.isfinite(self.measured) else str(self.measured)
        return {"what": self.what, "measured": measured, "expected": self.expected, "passed": bool(self.passed)}


def at_most(what: str, measured: float, bound: float) -> Check:
    """**Arguments:** `what`, `measured`, `bound`. **Returns:** a `Check` passed when measured <= bound."""
    return Check(what, measured, f"<= {bound:.4g}", bool(measured <= bound))


def at_least(what: str, measured: float, bound: float) -> Check:
    """**Arguments:** `what`, `measured`, `bound`. **Returns:** a `Check` passed when measured >= bound."""
    return Check(what, measured, f">= {bound:.4g}", bool(measured >= bound))


def within(what: str, measured: float, target: float, rel: float) -> Check:
    """measured within a relative tolerance `rel` of target.

    **Arguments:** `what`, `measured`, `target`, `rel` (>= 0). **Returns:** a `Check` passed when
    |measured - target| <= rel |target|."""
    return Check(what, measured, f"{target:.5g} +- {100 * rel:g}%", bool(abs(measured - target) <= rel * abs(target)))


def between(what: str, measured: float, low: float, high: float) -> Check:
    """**Arguments:** `what`, `measured`, `low`, `high`. **Returns:** a `Check` passed when low <= measured <= high."""
    return Check(what, measured, f"in [{low:.4g}, {high:.4g}]", bool(low <= measured <= high))


@dataclass
class Outcome:
    """What a claim's run returns: its checks, the datasets it computed and its figure.

    **Arguments:** `checks`: a list of `Check`; `data`: name -> Dataset (written as NAME.nc); `figure`: a
    matplotlib Figure or None; `numbers`: name -> measured number (in summary.json)."""

    checks: list[Check]
    data: dict[str, xr.Dataset] = field(default_factory=dict)
    figure: object = None
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass
class ClaimResult:
    """A claim's outcome with what was run: the claim's name and statement, the size, the time taken.

    **Arguments:** `name`, `size` ('quick' or 'paper'), `statement`, `outcome` (an `Outcome`), `seconds`.

    **Returns:** `holds` (every check passed, and there is one), `checks`, `numbers`, `data`, `figure`,
    `summary()` (a JSON-ready dict) and `save(out)` (the files written)."""

    name: str
    size: str
    statement: str
    outcome: Outcome
    seconds: float = float("nan")

    @property
    def checks(self) -> list[Check]:
        return self.outcome.checks

    @property
    def data(self) -> dict[str, xr.Dataset]:
        return self.outcome.data

    @property
    def figure(self):
        return self.outcome.figure

    @property
    def numbers(self) -> dict[str, float]:
        return self.outcome.numbers

    @property
    def holds(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def summary(self) -> dict:
        return {"claim": self.name, "size": self.size, "statement": self.statement, "holds": self.holds,
                "seconds": round(self.seconds, 2), "checks": [c.as_dict() for c in self.checks],
                "numbers": self.numbers}

    def provenance(self, key: str, ds) -> dict:
        """The attributes a claim's dataset `key` is written with: its own provenance (hild.core.scenario.PROVENANCE),
        what it lacks filled in from the claim (model: the claim's family prefix, kind: `claim data KEY`, params:
        the claim and size, which fix every parameter of the run), and the claim's name, size and statement."""
        from hild import __version__

        floats = [v.dtype.name for v in ds.data_vars.values() if v.dtype.kind == "f"]
        filled = {"model": self.name.split(".")[0], "kind": f"claim data {key}",
                  "params": json.dumps({"claim": self.name, "size": self.size}), "hild_version": __version__,
                  "dtype": floats[0] if floats else "", "convention": "", "axis": next(iter(ds.dims), "")}
        return {**filled, **ds.attrs, "claim": self.name, "claim_size": self.size, "claim_statement": self.statement}

    def save(self, out: Path) -> list[Path]:
        """Write figure.png, summary.json and one NetCDF file per dataset into `out` (created if needed)."""
        from hild.plot import save
        from hild.io import write_json, write_netcdf

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = [write_json(out / "summary.json", self.summary())]
        for key, ds in self.data.items():
            written.append(write_netcdf(out / f"{key}.nc", ds.assign_attrs(self.provenance(key, ds))))
        if self.figure is not None:
            save(self.figure, out / "figure.png")
            written.append(out / "figure.png")
        return written


@dataclass(frozen=True)
class Claim:
    """A paper's statement, the papers, the run that checks it, and hild's finding: `holds` is False for a
    statement that hild's measurement contradicts (documented in the claim's module, with the numbers).

    **Arguments:** `name`; `statement`; `papers`: arXiv ids; `run`: `run(size, progress) -> Outcome`; `holds`."""

    name: str
    statement: str
    papers: tuple[str, ...]
    run: Callable[[str, bool], Outcome]
    holds: bool = True


REGISTRY: dict[str, Claim] = {}


def claim(name: str, statement: str, papers: tuple[str, ...], holds: bool = True):
    """Register `run(size, progress) -> Outcome` under `name`; `holds=False` records that hild's
    measurement contradicts the statement.

    **Arguments:** `name`: the claim's name ('family.what'); `statement`: the paper's statement; `papers`: arXiv
    ids; `holds` (default True).

    **Returns:** a decorator that registers the run and returns it unchanged."""
    def wrap(run):
        REGISTRY[name] = Claim(name, statement, papers, run, holds)
        return run
    return wrap


def get(name: str) -> Claim:
    """**Arguments:** `name`: a registered claim (`hild claims`). **Returns:** its `Claim`; ValueError otherwise."""
    _load()
    if name not in REGISTRY:
        raise ValueError(f"claim must be one of {', '.join(sorted(REGISTRY))}; got {name!r}")
    return REGISTRY[name]


def all_claims() -> list[Claim]:
    """**Arguments:** none. **Returns:** every registered `Claim`, sorted by name (every family's claims loaded)."""
    _load()
    return [REGISTRY[k] for k in sorted(REGISTRY)]


def reproduce(name: str, size: str = "quick", progress: bool = False) -> ClaimResult:
    """Run a claim and return its result (numbers, checks, verdict, figure, data).

    **Arguments:** `name`: a registered claim; `size`: 'quick' (default) or 'paper'; `progress`: show progress.

    **Returns:** a `ClaimResult`; ValueError for an unknown claim or size."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}; got {size!r}")
    c = get(name)
    start = time.perf_counter()
    outcome = c.run(size, progress)
    return ClaimResult(c.name, size, c.statement, outcome, time.perf_counter() - start)


def _load() -> None:
    """Import every family's claim modules (claims*.py beside the model), which register their claims."""
    from hild.core.registry import load

    load("claims")


def dumps(result: ClaimResult) -> str:
    """**Arguments:** `result`: a `ClaimResult`. **Returns:** its summary as indented JSON text."""
    return json.dumps(result.summary(), indent=2)
