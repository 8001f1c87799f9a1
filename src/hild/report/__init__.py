"""The atlas: every claim as a page with its figure, checks and verdict (`hild report`).

`build(out, names, size)` reproduces the chosen claims (all by default) into `out` (hild.report.runs: each claim
in its own folder, finished runs reused, so an interrupted report resumes) and writes the static site
(hild.report.site: index.html, one page per claim, style.css; no server, no script).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from hild.report.runs import Entry, open_report, run_claim
from hild.report.site import write_site

__all__ = ["Entry", "build"]


def build(out, names: Sequence[str] | None = None, size: str = "quick", force: bool = False,
          progress: bool = False) -> list[Entry]:
    """Reproduce the claims `names` (default: every registered claim) at `size` into the report folder `out` and
    write its site.

    **Arguments:**
    - `out`: a new folder, or one an earlier `hild report` of the same size wrote (its finished claims are
      reused unless `force`); any other existing folder is refused.
    - `names`: claim names (`hild claims`); `size`: 'quick' or 'paper'.
    - `progress`: one line per claim on stderr.

    **Returns:** the entries in the order of `names`, each with its verdict.
    """
    import sys

    from hild import __version__
    from hild.claims import SIZES, all_claims, get

    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}; got {size!r}")
    claims = [get(n) for n in names] if names else all_claims()
    out = open_report(Path(out), size)
    entries = []
    for i, claim in enumerate(claims):
        entry = run_claim(claim, out, size, force=force)
        entries.append(entry)
        if progress:
            how = "reused" if entry.reused else f"{entry.summary.get('seconds', 0):.1f} s"
            print(f"[{i + 1}/{len(claims)}] {claim.name}: {entry.verdict} ({how})", file=sys.stderr, flush=True)
        write_site(out, entries, size, __version__)  # the site so far: an interrupted report still shows it
    return entries
