"""Fresh-process start-up: `import hild`, `hild run committee --help`, and `hild run committee` at the README's size
with a cold against a warm persistent compilation cache (hild.core.compile_cache), until its first SGD step.

    python benchmarks/bench_startup.py [--repeats 3] [--d 1000] [--seeds 4] [--t-max 300] [--full] [--json out.json]

Every measurement is a new interpreter; the kinds run interleaved (A, B, A, B ...) and the medians are reported with
their ratios, so a shared machine's load cancels out. Each cold run gets its own empty cache directory
(HILD_CACHE_DIR), the warm runs share one filled by a first run. The time to the first step is read from outside
the product: JAX's compile log (jax_log_compiles) in the child timestamps when the SGD loop's executable
(`jit(all_seeds)`) is ready, i.e. compiled or loaded from the cache; the child then exits, unless --full. The
breakdown of a warm start: Python imports up to `hild.cli`, JAX's import and first use (up to the first compile
log line), tracing and lowering of the SGD loop, and loading it from the cache.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, logging, os, sys, time
start = float(os.environ["BENCH_T0"])
marks = {"python_started": time.time() - start}
first = {}
class Marks(logging.Handler):
    def emit(self, record):
        m, now = record.getMessage(), time.time() - start
        first.setdefault("jax_first_log", now)
        if m.startswith("Finished tracing all_seeds"):
            first["traced"] = now
        elif m.startswith("Finished jaxpr to MLIR module conversion jit(all_seeds)"):
            first["lowered"] = now
        elif m.startswith("Finished XLA compilation of jit(all_seeds)"):
            first["first_step"] = now
            if not FULL:
                report()
                os._exit(0)
def report():
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump({**marks, **first, "exit": time.time() - start}, f)
FULL = os.environ.get("BENCH_FULL") == "1"
os.environ["JAX_LOG_COMPILES"] = "1"
logger = logging.getLogger("jax")
logger.addHandler(Marks()); logger.propagate = False
from hild.cli import app
marks["hild_cli_imported"] = time.time() - start
try:
    app(sys.argv[1:], prog_name="hild")
except SystemExit:
    pass
report()
"""


def fresh(argv: list[str], env: dict | None = None) -> float:
    """Wall seconds of a fresh `python argv...`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def run_committee(args, cache: Path, out: Path) -> dict:
    """Marks (seconds from launch) of one fresh `hild run committee` at the given cache directory."""
    report = out.with_suffix(".json")
    env = {**os.environ, "HILD_CACHE_DIR": str(cache), "BENCH_OUT": str(report), "BENCH_T0": repr(time.time()),
           "BENCH_FULL": "1" if args.full else "0"}
    command = ["run", "committee", "--d", str(args.d), "--seeds", str(args.seeds), "--t-max", str(args.t_max),
               "--out", str(out)]
    subprocess.run([sys.executable, "-c", CHILD, *command], check=True, capture_output=True, env=env)
    return json.loads(report.read_text())


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--t-max", type=float, default=300.0)
    parser.add_argument("--full", action="store_true", help="time whole runs, not only up to the first step")
    parser.add_argument("--json", type=str, default=None)
    args = parser.parse_args()

    helps = "from hild.cli import app; app(['run', 'committee', '--help'], prog_name='hild')"
    commands = {"python_s": "pass", "import_hild_s": "import hild", "run_committee_help_s": helps,
                "import_jax_s": "import jax", "import_xarray_s": "import xarray"}
    times = {name: [] for name in commands}
    for _ in range(max(args.repeats, 5)):
        for name, code in commands.items():
            times[name].append(fresh(["-c", code]))
    imports = {name: statistics.median(t) for name, t in times.items()}
    print(f"fresh interpreter {imports['python_s']:.3f} s; import hild {imports['import_hild_s']:.3f} s "
          f"({imports['import_hild_s'] / imports['python_s']:.2f}x the bare interpreter); "
          f"hild run committee --help {imports['run_committee_help_s']:.3f} s; "
          f"import jax {imports['import_jax_s']:.3f} s; import xarray {imports['import_xarray_s']:.3f} s")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        warm_cache = tmp / "warm"
        run_committee(args, warm_cache, tmp / "fill")  # fills the warm cache
        cold, warm = [], []
        for i in range(args.repeats):
            cold.append(run_committee(args, tmp / f"cold-{i}", tmp / f"cold-out-{i}"))
            warm.append(run_committee(args, warm_cache, tmp / f"warm-out-{i}"))
        entries = sum(1 for _ in warm_cache.iterdir())
    keys = ["hild_cli_imported", "jax_first_log", "traced", "lowered", "first_step", "exit"]
    table = {kind: {k: median(rows, k) for k in keys if all(k in r for r in rows)}
             for kind, rows in (("cold", cold), ("warm", warm))}
    print(f"hild run committee --d {args.d} --seeds {args.seeds} --t-max {args.t_max:g}: seconds from launch "
          f"(medians of {args.repeats}; warm cache: {entries} entries)")
    print(f"{'':>18} {'cold':>8} {'warm':>8} {'warm/cold':>10}")
    for k in keys:
        if k in table["cold"] and k in table["warm"]:
            c, w = table["cold"][k], table["warm"][k]
            print(f"{k:>18} {c:8.2f} {w:8.2f} {w / c:10.2f}")
    w = table["warm"]
    breakdown = {"python_imports_to_hild_cli": w["hild_cli_imported"],
                 "jax_import_and_first_use": w["jax_first_log"] - w["hild_cli_imported"],
                 "until_sgd_traced": w["traced"] - w["jax_first_log"],
                 "lowering": w["lowered"] - w["traced"],
                 "cache_load": w["first_step"] - w["lowered"]}
    print("warm start, to the first step: " + ", ".join(f"{k} {v:.2f} s" for k, v in breakdown.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"imports": imports, "cold": cold, "warm": warm, "median": table,
                                               "warm_breakdown": breakdown, "entries": entries}, indent=2))


if __name__ == "__main__":
    main()
