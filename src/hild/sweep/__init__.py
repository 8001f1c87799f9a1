"""Sweeps: a registered model, fixed parameters and a grid over some of its sweepable parameters.

The theory runs as batched calls over the whole grid from the scenarios' nominal start
(hild.sweep.theory); the simulation runs every (grid point, size) as an independent task through an
executor (hild.sweep.executors), together with the theory from that simulation's own start, and
writes each point into a Zarr store (hild.sweep.store) as it finishes, with a checksum; run again, a
sweep computes only the points its store lacks or holds damaged. Figures come from the store
(hild.sweep.figure).
"""
from hild.sweep.figure import figure
from hild.sweep.grid import Axis, Grid, parse_axis
from hild.sweep.simulation import Sizes, SweepReport, point_key, run_sweep, simulate_point, sweep_spec
from hild.sweep.theory import theory_sweep

__all__ = ["Axis", "Grid", "Sizes", "SweepReport", "figure", "parse_axis", "point_key", "run_sweep",
           "simulate_point", "sweep_spec", "theory_sweep"]
