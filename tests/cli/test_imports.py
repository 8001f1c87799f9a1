"""Imports where they are used: `import hild`, help, the listings and rejected input load none of the heavy
packages (checked by the modules loaded in a fresh interpreter, not by timing), and the listings never cut
a name at any terminal width."""
import importlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys

import pytest

import hild

HEAVY = ("jax", "jaxlib", "diffrax", "equinox", "optimistix", "lineax", "xarray", "pandas", "scipy", "matplotlib",
         "zarr", "dask", "h5netcdf")

COMMANDS = """
import json, sys
from hild.cli import app
report = []
for args in json.loads(sys.argv[1]):
    try:
        app(args, prog_name="hild")
        code = 0
    except SystemExit as e:
        code = e.code
    report.append({"args": args, "exit": code, "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))})
with open(sys.argv[2], "w") as f:
    json.dump(report, f)
"""


def _fresh(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def _commands(tmp_path, commands: list[list[str]]) -> list[dict]:
    """Run the commands one after another in one fresh interpreter; per command, its exit status and the heavy
    packages loaded so far."""
    out = tmp_path / "report.json"
    done = _fresh(COMMANDS, json.dumps(commands), str(out))
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize("args, status", [
    (["--help"], 0), (["models"], 0), (["models", "--json"], 0), (["claims"], 0), (["claims", "--json"], 0),
    (["run", "--help"], 0), (["sweep", "--help"], 0), (["reproduce", "--help"], 0),
    (["run", "committee", "--K", "-1", "--out", "{tmp}/x"], 2),
    (["run", "committee"], 2),
    (["run", "committee", "--no-such-option", "1", "--out", "{tmp}/x"], 2),
    (["reproduce", "no.such.claim"], 2),
    (["sweep", "committee", "--grid", "bogus", "--store", "{tmp}/x"], 2),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_help_listings_and_rejected_input_load_no_heavy_package(tmp_path, args, status):
    [report] = _commands(tmp_path, [[a.replace("{tmp}", str(tmp_path)) for a in args]])
    assert (report["exit"], report["heavy"]) == (status, [])
    assert not (tmp_path / "x").exists()


def test_every_models_run_and_sweep_help_load_no_heavy_package(tmp_path):
    commands = [[command, model, "--help"] for model in hild.models() for command in ("run", "sweep")]
    report = _commands(tmp_path, commands)
    assert [(r["args"][:2], r["exit"], r["heavy"]) for r in report] == [(c[:2], 0, []) for c in commands]


def test_importing_hild_or_any_of_its_modules_loads_no_heavy_package():
    code = """
import importlib, json, pkgutil, sys
import hild, hild.core
loaded = lambda: sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
report = {"import hild": loaded()}
for info in pkgutil.walk_packages(hild.__path__, "hild."):
    importlib.import_module(info.name)
    if loaded():
        report[info.name] = loaded()
        break
print(json.dumps(report))
"""
    done = _fresh(code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"import hild": []}


@pytest.mark.parametrize("package", ["hild", "hild.core", *(f"hild.families.{f}" for f in hild.core.families())])
def test_every_public_name_of_a_package_resolves_to_what_it_names(package):
    loaded = importlib.import_module(package)
    # a submodule of the same name, imported first, never hides a name (deep_linear's theory.py and theory())
    shadowing = [name for name in loaded.__all__ if importlib.util.find_spec(f"{package}.{name}") is not None]
    for name in shadowing:
        importlib.import_module(f"{package}.{name}")
    assert [name for name in loaded.__all__ if not hasattr(loaded, name)] == []
    assert set(loaded.__all__) <= set(dir(loaded))
    hidden = [name for name in shadowing if inspect.ismodule(getattr(loaded, name))
              and getattr(loaded, name).__name__ == f"{package}.{name}"]
    assert hidden == [name for name in ("sweep", "claims", "report") if package == "hild"]  # those are the packages
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        loaded.nope  # noqa: B018


def test_lazy_names_are_the_objects_they_name():
    import hild.families.deep_linear.theory  # noqa: F401

    assert hild.compare is sys.modules["hild.analysis.compare"].compare and hild.online is hild.families.online
    assert hild.deep_linear.theory is sys.modules["hild.families.deep_linear.theory"].theory


def _whole(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", text) is not None


@pytest.mark.parametrize("columns", [80, 40])
def test_listings_never_cut_a_name(columns):
    claims, models = hild.claims.all_claims(), hild.models()
    out = {}
    for command in ("claims", "models"):
        done = _fresh(f"from hild.cli import app\napp([{command!r}])", env={"COLUMNS": str(columns)})
        assert done.returncode == 0, done.stderr
        out[command] = done.stdout
        assert max(len(line) for line in done.stdout.splitlines()) <= columns
    assert [c.name for c in claims if not _whole(c.name, out["claims"])] == []
    assert [m for m, cls in models.items() if not (_whole(m, out["models"]) and _whole(cls.size, out["models"]))] == []
    # statements are printed as written (no Rich markup eats "[pi/6 - K arcsin(1/2K)]"), wrapped between lines
    text = "".join(out["claims"].split())
    assert [c.name for c in claims if "".join(c.statement.split()) not in text] == []
