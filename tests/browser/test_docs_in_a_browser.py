"""The documentation site: `mkdocs build --strict` passes (the API reference from the docstrings, the CLI
reference from the commands, the tutorials executed), and the built site, served on localhost, loads in headless
Chromium without console errors, with every image decoding and every internal link resolving. Screenshots go to
$HILD_SCREENSHOTS when set (look at them)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build(site: Path, cwd: Path) -> subprocess.CompletedProcess:
    """The site built into `site`, run from `cwd` (mkdocs-jupyter keeps its cache of executed notebooks in
    ./.cache: a fresh folder executes every tutorial)."""
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}  # the kernel's inline backend
    env["NO_MKDOCS_2_WARNING"] = "1"
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


def test_the_docs_build_strictly_and_pass_the_browser(tmp_path, driver, crawl, serve):
    done = build(tmp_path / "site", tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    site = tmp_path / "site"
    tour = (site / "tutorials" / "first_hour.html").read_text()
    assert "claims, e.g." in tour and "max |err|" in tour  # executed: its printed outputs are on the page
    assert "hild sweep status" in (site / "cli.html").read_text()
    assert "gardner_capacity" in (site / "api.html").read_text()
    shots = Path(os.environ.get("HILD_SCREENSHOTS", tmp_path / "shots"))
    shots.mkdir(parents=True, exist_ok=True)
    found = crawl(driver, site / "index.html", {"index.html": shots / "docs-index.png",
                                                "first_hour.html": shots / "docs-tutorial.png"},
                  served=serve(site))
    assert len(found.pages) >= 12 and found.images >= 1
    assert (found.console_errors, found.broken_images, found.broken_links) == ([], [], [])
