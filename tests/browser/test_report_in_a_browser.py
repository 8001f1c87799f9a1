"""The atlas (`hild report`) in headless Chromium: a report with a claim that holds, one that is hild's documented
finding and one that raises loads without console errors, shows every figure, and every internal link resolves.
Screenshots of the index and of a claim page go to $HILD_SCREENSHOTS when set (look at them)."""
import os
from pathlib import Path

import pytest


def test_the_report_passes_the_browser(tmp_path, driver, crawl):
    from hild import claims as registry
    from hild.claims import Claim, Outcome, at_most
    from hild.plot import STYLE, plt
    from hild.report import build

    def curve(size, progress):
        with plt.rc_context(STYLE):
            fig, ax = plt.subplots(figsize=(4, 3))
            ax.plot([1, 2, 3], [3, 1, 2], "o-")
        return Outcome([at_most("a measured gap", 0.01, 0.02)], figure=fig, numbers={"a number": 1.5})

    def boom(size, progress):
        raise RuntimeError("a claim that raises")

    fakes = [Claim("test.holds", "A gap is small (2102.08127).", ("2102.08127",), curve),
             Claim("test.finding", "hild finds the paper's gap is not small.", ("Someone (1999)",), curve,
                   holds=False),
             Claim("test.raises", "A run that raises.", ("2205.15935",), boom)]
    registry._load()
    registry.REGISTRY.update({c.name: c for c in fakes})
    try:
        entries = build(tmp_path / "site", [c.name for c in fakes])
    finally:
        for c in fakes:
            registry.REGISTRY.pop(c.name)
    assert [e.verdict for e in entries] == ["holds", "FAILS", "error"]
    shots = Path(os.environ.get("HILD_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    found = crawl(driver, tmp_path / "site" / "index.html",
                  {"index.html": shots / "report-index.png",
                   "test.holds.html": shots / "report-claim.png"})
    assert len(found.pages) == 4 and found.images == 2
    assert (found.console_errors, found.broken_images, found.broken_links) == ([], [], [])
    assert (shots / "report-index.png").stat().st_size > 10_000 and (shots / "report-claim.png").stat().st_size > 10_000


def test_the_crawl_catches_a_missing_image_and_a_dead_link(tmp_path, driver, crawl):
    (tmp_path / "index.html").write_text('<!DOCTYPE html><html><head><title>x</title></head><body>'
                                         '<img src="gone.png" alt="gone"><a href="nowhere.html">dead</a></body></html>')
    found = crawl(driver, tmp_path / "index.html")
    assert found.broken_images and found.broken_links == [f"index.html: {(tmp_path / 'nowhere.html').as_uri()}"]
    assert found.console_errors  # the missing image is a console error too


@pytest.mark.slow
def test_the_whole_quick_report_passes_the_browser(tmp_path, driver, crawl):
    """`hild report --size quick` over every claim (about as long as tests/test_claims.py): every verdict is the one
    hild records, and the site passes the browser. $HILD_REPORT keeps it in a folder of yours (resumable)."""
    from hild.claims import all_claims
    from hild.report import build

    out = Path(os.environ.get("HILD_REPORT", tmp_path / "report"))
    entries = build(out, progress=True)
    assert len(entries) == len(all_claims())
    assert [e.name for e in entries if e.verdict in ("FAILS", "error")] == []
    found = crawl(driver, out / "index.html")
    assert len(found.pages) == len(entries) + 1 and found.images == len(entries)
    assert (found.console_errors, found.broken_images, found.broken_links) == ([], [], [])
