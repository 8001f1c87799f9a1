"""`hild report`: claims reproduced into a static site, finished runs reused (an interrupted report resumes),
failing and raising claims shown as such, other folders never written into."""
import json

import numpy as np
import pytest
import xarray as xr

from hild import claims as registry
from hild.claims import Claim, Outcome, at_most

CALLS = []


def _run(value, bound):
    def run(size, progress):
        import matplotlib.pyplot as plt

        CALLS.append(value)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, value])
        data = {"theory": xr.Dataset({"eg": ("t", np.array([1.0, value]))}, attrs={"params": '{"lr": 0.5}'})}
        return Outcome([at_most("the value", value, bound)], data, fig, {"a number": 2 * value})
    return run


def _boom(size, progress):
    CALLS.append("boom")
    raise RuntimeError("the solver fell over")


@pytest.fixture
def fake_claims():
    claims = [Claim("test.passes", "A value is small (1903.08560).", ("1903.08560",), _run(0.1, 1.0)),
              Claim("test.documented", "hild finds the value is not small.", ("Someone (1999)",), _run(5.0, 1.0),
                    holds=False),
              Claim("test.regressed", "A value is small, but a change broke it.", ("2102.08127",), _run(5.0, 1.0)),
              Claim("test.raises", "A run that raises.", ("2205.15935",), _boom)]
    registry._load()
    for c in claims:
        registry.REGISTRY[c.name] = c
    CALLS.clear()
    yield [c.name for c in claims]
    for c in claims:
        registry.REGISTRY.pop(c.name)


def test_the_site_shows_every_verdict_and_every_page_has_its_figure(fake_claims, tmp_path):
    from hild.report import build

    entries = build(tmp_path / "r", fake_claims)
    assert [e.verdict for e in entries] == ["holds", "does not hold", "FAILS", "error"]
    index = (tmp_path / "r" / "index.html").read_text()
    for name in fake_claims:
        assert f'href="claims/{name}.html"' in index
    assert 'href="https://arxiv.org/abs/1903.08560"' in index and "Someone (1999)" in index
    page = (tmp_path / "r" / "claims" / "test.passes.html").read_text()
    assert 'src="test.passes/figure.png"' in page and (tmp_path / "r" / "claims" / "test.passes" / "figure.png").is_file()
    assert "hild reproduce test.passes --size quick" in page and "a number" in page and "&quot;lr&quot;: 0.5" in page
    assert "the solver fell over" in (tmp_path / "r" / "claims" / "test.raises.html").read_text()
    assert 'class="verdict fails">FAILS' in index


def test_a_second_report_reuses_finished_runs_and_retries_errors(fake_claims, tmp_path):
    from hild.report import build

    build(tmp_path / "r", fake_claims)
    CALLS.clear()
    again = build(tmp_path / "r", fake_claims)
    assert [e.reused for e in again] == [True, True, True, False] and CALLS == ["boom"]
    build(tmp_path / "r", fake_claims[:1], force=True)
    assert CALLS == ["boom", 0.1]


def test_an_interrupted_claim_leaves_no_finished_run(fake_claims, tmp_path, monkeypatch):
    from hild.report import build

    def interrupted(size, progress):
        raise KeyboardInterrupt
    monkeypatch.setitem(registry.REGISTRY, "test.passes",
                        Claim("test.passes", "A value is small (1903.08560).", ("1903.08560",), interrupted))
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "r", fake_claims[:1])
    assert not (tmp_path / "r" / "claims" / "test.passes").exists()
    monkeypatch.setitem(registry.REGISTRY, "test.passes",
                        Claim("test.passes", "A value is small (1903.08560).", ("1903.08560",), _run(0.1, 1.0)))
    [entry] = build(tmp_path / "r", fake_claims[:1])
    assert not entry.reused and entry.verdict == "holds"


def test_other_folders_and_other_sizes_are_refused(fake_claims, tmp_path):
    from hild.report import build

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(ValueError, match="not a hild report"):
        build(mine, fake_claims[:1])
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    build(tmp_path / "r", fake_claims[:1])
    with pytest.raises(ValueError, match="size 'quick'"):
        build(tmp_path / "r", fake_claims[:1], size="paper")
    with pytest.raises(ValueError, match="size must be one of"):
        build(tmp_path / "s", fake_claims[:1], size="huge")
    assert json.loads((tmp_path / "r" / "report.json").read_text()) == {"size": "quick"}


def test_hild_report_exits_1_when_a_claim_fails(fake_claims, tmp_path):
    from typer.testing import CliRunner

    from hild.cli import app

    ok = CliRunner().invoke(app, ["report", "test.passes", "test.documented", "--out", str(tmp_path / "a")])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(app, ["report", *fake_claims, "--out", str(tmp_path / "b")])
    assert bad.exit_code == 1 and "failing: test.regressed, test.raises" in bad.output
