"""The prepared accelerator benchmark runs end to end on the CPU at its quick sizes."""
import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[1] / "benchmarks" / "bench_gpu.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # about 30 s of compilation: run with `pytest -m slow` after changing the script
def test_quick_run_reports_every_row(bench, tmp_path):
    out = tmp_path / "cpu.json"
    report = bench.main(["--quick", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    assert [(r["d"], r["seeds"]) for r in report["sgd"]] == [(32, 1), (32, 2)]
    assert all(r["warm_s"] > 0 and r["seed_steps_per_s"] > 0 for r in report["sgd"])
    assert report["ode"]["scenarios"] == 4 and report["ode"]["warm_s"] > 0
    assert [r["chunk"] for r in report["sweep"]] == [2, 4] and all("warm_s" in r for r in report["sweep"])
    # a second report against the first: every row is paired with its speed-up
    again = bench.main(["--quick", "--against", str(out)])
    assert len(again["speedup_over"]["rows"]) == len(report["sgd"]) + 1 + len(report["sweep"])


def test_rows_beyond_the_budget_are_skipped_with_their_estimate(bench):
    budget = bench.Budget(0.0)
    rows = bench.sgd_rows({**bench.QUICK, "d": (32, 64)}, budget)
    assert "skipped" not in rows[0]                     # nothing to extrapolate from yet: the first row runs
    assert all("estimated" in r["skipped"] for r in rows[1:])
