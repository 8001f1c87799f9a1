"""Grids (parsing, validation before anything runs) and vectorised theory sweeps."""
import numpy as np
import pytest

from hild.families.online import Committee
from hild.sweep import Axis, Grid, parse_axis, theory_sweep


def test_axis_forms():
    assert parse_axis("lr=0.1:2:20").values == tuple(np.linspace(0.1, 2, 20))
    np.testing.assert_allclose(parse_axis("lr=1e-3:1:4:log").values, [1e-3, 1e-2, 1e-1, 1.0])
    assert parse_axis("K=1,2,4").values == (1, 2, 4)
    assert parse_axis("activation=erf,relu").values == ("erf", "relu")
    assert parse_axis("noise=0,0.5").values == (0, 0.5)


@pytest.mark.parametrize("spec, message", [
    ("lr", "NAME="), ("lr=", "NAME="), ("lr=0:1:0", "empty"), ("lr=0:1", "START:STOP:N"),
    ("lr=a:b:3", "numbers"), ("lr=0:1:3:log", "log range"), ("lr=0:1:3:cubic", "START:STOP:N"),
])
def test_bad_axis_text_is_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_axis(spec)


def test_invalid_grids_are_refused_before_anything_runs():
    with pytest.raises(ValueError, match="unknown parameter 'depth'"):
        Grid("committee", (parse_axis("depth=1,2"),), fixed={"K": 2, "M": 2, "lr": 0.5})
    with pytest.raises(ValueError, match="empty"):
        Grid("committee", (Axis("lr", ()),), fixed={"K": 2, "M": 2})
    with pytest.raises(ValueError, match=r"^lr must be .*grid point lr=-0.5"):
        Grid("committee", (parse_axis("lr=-0.5,0.5"),), fixed={"K": 2, "M": 2})
    with pytest.raises(ValueError, match="model must be"):
        Grid("transformer", (parse_axis("lr=0.5"),))
    with pytest.raises(ValueError, match="equal lengths"):
        Grid("committee", (parse_axis("lr=0.1,0.2"), parse_axis("K=1,2,3")), fixed={"M": 2}, zipped=True)
    with pytest.raises(ValueError, match="both fixed and swept"):
        Grid("committee", (parse_axis("lr=0.1,0.2"),), fixed={"K": 2, "M": 2, "lr": 0.3})


def test_crossed_and_zipped_points():
    crossed = Grid("committee", (parse_axis("lr=0.1,0.2"), parse_axis("K=1,2,3")), fixed={"M": 1})
    assert crossed.shape == (2, 3) and crossed.points()[1] == {"lr": 0.1, "K": 2}
    zipped = Grid("committee", (parse_axis("lr=0.1,0.2"), parse_axis("K=1,3")), fixed={"M": 1}, zipped=True)
    assert zipped.shape == (2,) and zipped.points() == [{"lr": 0.1, "K": 1}, {"lr": 0.2, "K": 3}]


def test_theory_sweep_agrees_point_by_point_with_single_runs():
    grid = Grid("committee", (parse_axis("lr=0.2,0.5,0.8"), parse_axis("K=1,2")), fixed={"M": 2, "noise": 0.3})
    ds = theory_sweep(grid, t_max=20, n_points=6, chunk=4)  # 6 points in chunks of 4: padding the last chunk
    assert ds.eg.dims == ("lr", "K", "t") and ds.sizes["k"] == 2
    for lr in (0.2, 0.5, 0.8):
        for K in (1, 2):
            alone = Committee(K=K, M=2, lr=lr, noise=0.3).theory(t_max=20, n_points=6)
            np.testing.assert_allclose(ds.eg.sel(lr=lr, K=K).values, alone.eg.values, rtol=1e-6)
    assert np.isnan(ds.Q.sel(K=1).values[..., 1, :]).all()  # K = 1 is padded to the grid's largest K
    assert "grid" in ds.attrs and ds.attrs["kind"] == "theory sweep"


def test_zipped_sweep_has_a_point_dimension():
    grid = Grid("committee", (parse_axis("lr=0.3,0.6"), parse_axis("noise=0,0.2")), fixed={"K": 2, "M": 2},
                zipped=True)
    ds = theory_sweep(grid, t_max=5, n_points=3)
    assert ds.eg.dims == ("point", "t") and list(ds.noise.values) == [0, 0.2]
