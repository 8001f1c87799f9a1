"""The atlas's runs: each chosen claim reproduced into its own folder of a report directory, reused when it is
already there, so that an interrupted report resumes where it stopped.

    <out>/report.json                     marks the folder as a hild report (its size), written first
    <out>/claims/<name>/summary.json      the claim's checks, numbers and verdict (ClaimResult.save)
    <out>/claims/<name>/figure.png        its figure, and one NetCDF file per dataset
    <out>/claims/<name>/run.json          what was run: claim, size, statement, hild version, parameters, status

A claim runs into a hidden folder that is renamed into place only when everything is written: a folder that
exists is a finished run. A finished run is reused when its claim, size, statement and hild version are those
asked; a claim that raised is recorded with its error (and run again by the next report).
"""
from __future__ import annotations

import json
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "report.json"


@dataclass
class Entry:
    """One claim of a report.

    **Arguments:** `name`, `statement`, `papers`, `expected_to_hold`: the claim's registry record; `folder`: its
    run's folder; `summary`, `run`: its summary.json and run.json; `reused`: whether an earlier report ran it.
    `verdict` and `error` say how the run came out."""

    name: str
    statement: str
    papers: tuple[str, ...]
    expected_to_hold: bool
    folder: Path
    summary: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    reused: bool = False

    @property
    def error(self) -> str | None:
        return self.run.get("error")

    @property
    def verdict(self) -> str:
        """'holds', 'does not hold' (hild's documented finding against the paper), 'FAILS' (the run disagrees
        with the verdict hild records for the claim) or 'error' (the run raised)."""
        if self.error is not None:
            return "error"
        holds = bool(self.summary.get("holds"))
        if holds != self.expected_to_hold:
            return "FAILS"
        return "holds" if holds else "does not hold"


def open_report(out: Path, size: str) -> Path:
    """Create the report folder, or reopen one written by `hild report`; refuse any other existing folder (its
    files are the user's) and a report of another size.

    **Arguments:** `out`: the report folder; `size`: 'quick' or 'paper'.

    **Returns:** the folder's Path; ValueError for a folder that is not a report, or a report of another size."""
    out = Path(out)
    marker = out / MARKER
    if out.exists():
        if not out.is_dir():
            raise ValueError(f"out: {out} exists and is not a directory")
        if marker.is_file():
            have = json.loads(marker.read_text()).get("size")
            if have != size:
                raise ValueError(f"out: {out} holds a report of size {have!r}; choose another folder for size "
                                 f"{size!r}")
        elif any(out.iterdir()):
            raise ValueError(f"out: {out} exists and is not a hild report (no {MARKER}); choose a new folder")
    (out / "claims").mkdir(parents=True, exist_ok=True)
    if not marker.is_file():
        marker.write_text(json.dumps({"size": size}) + "\n")
    return out


def _reusable(folder: Path, name: str, size: str, statement: str, version: str) -> bool:
    try:
        run = json.loads((folder / "run.json").read_text())
        json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return False
    return (run.get("error") is None and (folder / "figure.png").is_file()
            and (run.get("claim"), run.get("size"), run.get("statement"), run.get("hild_version"))
            == (name, size, statement, version))


def _parameters(result) -> dict:
    """The parameters of the scenarios a claim ran, as its datasets record them (`params` attribute)."""
    out = {}
    for key, ds in result.data.items():
        params = ds.attrs.get("params")
        if params:
            try:
                out[key] = json.loads(params)
            except ValueError:
                out[key] = params
    return out


def run_claim(claim, out: Path, size: str, force: bool = False) -> Entry:
    """Reproduce one claim into `out/claims/<name>/` (or reuse the finished run there unless `force`).

    **Arguments:** `claim`: a registered `Claim`; `out`: the report folder; `size`: 'quick' or 'paper'; `force`:
    run again even where a finished run of the same claim, size, statement and hild version is there.

    **Returns:** the claim's `Entry`."""
    from hild import __version__
    from hild.claims import reproduce

    folder = out / "claims" / claim.name
    entry = Entry(claim.name, claim.statement, tuple(claim.papers), claim.holds, folder)
    if not force and _reusable(folder, claim.name, size, claim.statement, __version__):
        entry.summary = json.loads((folder / "summary.json").read_text())
        entry.run = json.loads((folder / "run.json").read_text())
        entry.reused = True
        return entry
    partial = folder.with_name(f".{claim.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    record = {"claim": claim.name, "size": size, "statement": claim.statement, "hild_version": __version__,
              "command": f"hild reproduce {claim.name} --size {size}", "error": None}
    start = time.perf_counter()
    try:
        result = reproduce(claim.name, size=size)
        result.save(partial)
        record["parameters"] = _parameters(result)
        entry.summary = result.summary()
    except Exception as e:  # a claim that raises is shown as an error, and the report goes on
        record["error"] = f"{type(e).__name__}: {e}"
        record["traceback"] = traceback.format_exc(limit=8)
        entry.summary = {"claim": claim.name, "size": size, "holds": False, "checks": [], "numbers": {},
                         "seconds": round(time.perf_counter() - start, 2)}
        (partial / "summary.json").write_text(json.dumps(entry.summary, indent=2) + "\n")
    (partial / "run.json").write_text(json.dumps(record, indent=2) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    entry.run = record
    return entry
