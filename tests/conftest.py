"""Shared fixtures: each claim runs once per test session at quick size, whichever tests read it.

The tests use one JAX compilation cache of their own (hild.core.compile_cache), shared with the `hild`
processes they start and removed at the end; a HILD_TEST_CACHE_DIR set beforehand is used and kept instead.
Never the user's own cache.
"""
import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

if "HILD_TEST_CACHE_DIR" not in os.environ:  # set here once; test worker processes inherit it
    os.environ["HILD_TEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="hild-tests-jax-")
    atexit.register(shutil.rmtree, os.environ["HILD_TEST_CACHE_DIR"], True)
os.environ["HILD_CACHE_DIR"] = os.environ["HILD_TEST_CACHE_DIR"]

import hild  # noqa: E402 (after the cache directory is chosen)

_QUICK: dict = {}


@pytest.fixture(scope="session")
def quick_claim():
    """`quick_claim(name)`: the ClaimResult of hild.reproduce(name, size="quick"), computed once per session."""
    def run(name: str):
        if name not in _QUICK:
            _QUICK[name] = hild.reproduce(name, size="quick")
        return _QUICK[name]
    return run


def _problems(fig) -> list[str]:
    """What a reader would stumble on in a drawn figure: tick labels of one axis that overlap or fewer than two
    of them, a panel with data but no x or y label, points of a line hidden under its panel's legend, a log axis
    over values <= 0."""
    from matplotlib.lines import Line2D

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # an Agg canvas: a saved and closed figure keeps only a base canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    found = []
    for ax in fig.axes:
        name = ax.get_title() or f"axes {fig.axes.index(ax)}"
        inset = ax.get_axes_locator() is not None or any(
            other is not ax and ax in getattr(other, "child_axes", []) for other in fig.axes)
        has_data = any(np.isfinite(np.asarray(line.get_ydata(), float)).any() for line in ax.lines) or \
            bool(ax.collections or ax.patches or ax.containers)
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not has_data or not axis.get_visible():
                continue
            lo, hi = sorted(axis.get_view_interval())
            slack = 1e-9 * max(abs(lo), abs(hi), 1e-300)
            boxes = [tick.label1.get_window_extent(renderer)
                     for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                     if lo - slack <= tick.get_loc() <= hi + slack and tick.label1.get_visible()
                     and tick.label1.get_text()]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    if a.overlaps(b) and min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1:
                        found.append(f"{name}: {which} tick labels overlap")
                        break
            if len(boxes) < 2 and not inset:
                found.append(f"{name}: fewer than two {which} tick labels")
            label = ax.get_xlabel() if which == "x" else ax.get_ylabel()
            if not label and not inset and boxes:
                found.append(f"{name}: no {which} label")
            if axis.get_scale() == "log":
                for line in ax.lines:
                    values = np.asarray(line.get_xdata() if which == "x" else line.get_ydata(), float)
                    if line.get_transform() == ax.transData and np.any(np.isfinite(values) & (values <= 0)):
                        found.append(f"{name}: {which} log axis over values <= 0 ({line.get_label()})")
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent(renderer)
            if box.overlaps(ax.bbox):
                for line in ax.lines:
                    if not isinstance(line, Line2D) or line.get_transform() != ax.transData:
                        continue
                    xy = np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float)
                    xy = xy[np.isfinite(xy).all(1)]
                    if not xy.size:
                        continue
                    pixels = ax.transData.transform(xy)
                    inside = (pixels[:, 0] > box.x0) & (pixels[:, 0] < box.x1) & (pixels[:, 1] > box.y0) & \
                        (pixels[:, 1] < box.y1)
                    if inside.any():
                        found.append(f"{name}: the legend hides {int(inside.sum())} point(s) of "
                                     f"{line.get_label()!r}")
                        break
    return found


@pytest.fixture(scope="session")
def figure_problems():
    """`figure_problems(fig)`: the list of readability problems of a figure (empty when there are none)."""
    return _problems
