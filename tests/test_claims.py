"""Every registered claim at quick size through its real code path (hild.reproduce), parametrised over
the claims registry: a claim added anywhere is run here without any list being edited."""
import json
import math

import pytest

from hild.claims import all_claims, get
from hild.core.scenario import PROVENANCE
from hild.io import read_netcdf

CLAIMS = [c.name for c in all_claims()]


def test_the_registry_holds_every_family_s_claims():
    from hild.core.registry import families

    assert {name.split(".")[0] for name in CLAIMS} >= {"committee", "deep_linear", "diffusion", "signal_prop",
                                                       "cumulants"}
    assert set(families()) >= {"online", "deep_linear", "diffusion", "signal_prop", "cumulants"}


@pytest.mark.parametrize("name", CLAIMS)
def test_claim_keeps_its_verdict_at_quick_size(name, quick_claim, tmp_path):
    """Its checks are finite numbers, its verdict is hild's finding (False only for a documented
    disagreement with the paper), and it saves its summary and figure."""
    result = quick_claim(name)
    assert result.checks and all(math.isfinite(c.measured) for c in result.checks), result.summary()
    assert result.holds == get(name).holds, result.summary()
    written = {p.name for p in result.save(tmp_path)}
    assert {"summary.json", "figure.png"} <= written
    for name in written - {"summary.json", "figure.png"}:  # every file hild writes carries the provenance schema
        attrs = read_netcdf(tmp_path / name).attrs
        assert set(PROVENANCE) <= set(attrs) and attrs["claim"] == result.name, name
    assert json.loads((tmp_path / "summary.json").read_text())["holds"] == result.holds


@pytest.mark.slow
@pytest.mark.parametrize("name", CLAIMS)
def test_claim_keeps_its_verdict_at_paper_size(name):
    from hild import reproduce

    assert reproduce(name, size="paper").holds == get(name).holds


@pytest.mark.parametrize("name", CLAIMS)
def test_claim_figure_is_readable(name, quick_claim, figure_problems):
    """Every claim's figure at quick size: no overlapping or missing tick labels, axis names on every panel, no
    point under a legend, no log axis over values <= 0 (tests/conftest.py)."""
    assert figure_problems(quick_claim(name).figure) == []
