"""What the benchmarks share: a call timed cold (compilation included) and warm."""
from __future__ import annotations

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
