"""Resource guards: every entry point estimates what it is asked for and refuses, before allocating, what
cannot fit, naming the parameter, the estimate and the limit (hild.core.resources)."""
import pytest

from hild.core import resources
from hild.core.resources import Need, admit, limits, parse_bytes, parse_seconds
from hild.online import Committee


def test_sizes_and_durations_parse_with_their_units():
    assert parse_bytes("m", "8G") == 8 * 2 ** 30 and parse_bytes("m", "512MiB") == 512 * 2 ** 20
    assert parse_bytes("m", "1e9") == 1e9 and parse_bytes("m", 1024) == 1024
    assert parse_seconds("t", "2h") == 7200 and parse_seconds("t", "30min") == 1800 and parse_seconds("t", "90") == 90
    assert parse_seconds("t", "inf") == float("inf")
    for bad in ("lots", "-1G", "0"):
        with pytest.raises(ValueError, match="max_memory must be"):
            parse_bytes("max_memory", bad)
    with pytest.raises(ValueError, match="max_time must be"):
        parse_seconds("max_time", "soon")


def test_admit_names_the_largest_need_its_parameters_and_the_limit():
    needs = [Need("a small array", ("x",), 10.0), Need("the big block", ("d", "seeds"), 5 * 2 ** 30)]
    with limits(memory="1G"):
        with pytest.raises(ValueError) as e:
            admit("model simulate", needs)
    text = str(e.value)
    assert text.startswith("d, seeds: model simulate needs an estimated 5 GiB")
    assert "the big block" in text and "limit of 1 GiB" in text and "--max-memory" in text
    with limits(memory="10G"):
        admit("model simulate", needs)
    with limits(time="1h"), pytest.raises(ValueError, match="t_max: .* needs an estimated 2.78 hours"):
        admit("model simulate", [Need("the steps", ("t_max",), operations=1e13)])


def test_limits_come_from_the_environment_and_the_block_overrides_them(monkeypatch):
    monkeypatch.setenv("HILD_MAX_MEMORY", "1K")
    with pytest.raises(ValueError, match="HILD_MAX_MEMORY"):
        admit("x", [Need("it", ("n",), 2048.0)])
    with limits(memory="4K"):
        admit("x", [Need("it", ("n",), 2048.0)])
    monkeypatch.delenv("HILD_MAX_MEMORY")
    assert resources.memory_limit()[0] == pytest.approx(resources.available_memory(), rel=0.5)


@pytest.mark.parametrize("call, kwargs, name", [
    ("simulate", {"d": 10 ** 10}, "d"),
    ("simulate", {"seeds": 10 ** 9, "d": 100, "t_max": 1.0}, "seeds"),
    ("simulate", {"n_points": 10 ** 9}, "n_points"),
    ("simulate", {"t_max": 1e12}, "t_max"),
    ("theory", {"n_points": 10 ** 9}, "n_points"),
])
def test_committee_refuses_what_cannot_fit(call, kwargs, name):
    """A ValueError, not a MemoryError or a hang: refused before anything was allocated or run."""
    with pytest.raises(ValueError) as e:
        getattr(Committee.example(), call)(**kwargs)
    assert name in str(e.value).split(":")[0].split(", ")


def test_a_wide_committee_is_refused_with_its_estimate():
    wide = Committee(K=100_000, M=2, lr=0.5)
    with pytest.raises(ValueError, match=r"^K: committee theory needs an estimated .* PiB"):
        wide.theory()
    with pytest.raises(ValueError, match="committee simulate needs"):
        wide.simulate(d=200_000)


def test_the_example_is_admitted_and_a_low_limit_refuses_it():
    example = Committee.example()
    example.admit("simulate", d=500, seeds=4)
    example.admit("theory")
    with limits(memory="1K"), pytest.raises(ValueError, match="above the limit of 1 KiB"):
        example.admit("simulate")


def test_an_ode_that_spends_its_step_budget_is_reported_naming_t_max(monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("hild.families.online.theory"), "MAX_STEPS", 50)
    with pytest.raises(ValueError, match=r"^t_max: the ODE integrator spent its step budget"):
        Committee.example().theory(t_max=1e4, n_points=11)


def test_a_grid_too_large_is_refused_before_its_values_are_built(monkeypatch):
    from hild.sweep import Grid, grid, parse_axis

    def no_values(*args):
        raise AssertionError("the values were built")

    with monkeypatch.context() as m:
        m.setattr(grid, "parse_values", no_values)
        with pytest.raises(ValueError, match="^lr: the grid axis lr needs an estimated"):
            parse_axis("lr=0.1:1:100000000")
    with pytest.raises(ValueError, match="^K, chunk: the committee theory sweep needs|^K: the committee theory sweep"):
        from hild.sweep.theory import theory_sweep

        theory_sweep(Grid("committee", (parse_axis("K=100000"),), {"M": 2, "lr": 0.5}))
