"""What the benchmarks share: a call timed cold (compilation included) and warm, and the report printed and written."""
from __future__ import annotations

import json
import math
import time


def timed(f, repeats: int = 2):
    """(first call, best of the next `repeats` calls) in seconds, and the last result."""
    start = time.perf_counter()
    out = f()
    first = time.perf_counter() - start
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - start)
    return first, best, out


def publish(report: dict, path: str | None) -> dict:
    """Print the report as JSON and, where `path` is given (--json), write it there; returns the report."""
    print(json.dumps(report, indent=2))
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=2)
    return report
