"""Shared fixtures of the family tests: the checks of the resource guards (hild.core.resources)."""
import time
import tracemalloc

import pytest

from hild.core import resources


@pytest.fixture
def refused():
    """`refused(call, name)`: call() raises a ValueError whose parameters (the text before the first ':') include
    `name`, at the machine's limits and under a 1 GiB limit, at once (within seconds) and without allocating
    (under 16 MiB traced, NumPy included). **Returns:** the message."""
    def check(call, name: str) -> str:
        with pytest.raises(ValueError) as first:  # also imports what the call imports, outside the trace
            call()
        tracemalloc.start()
        start = time.perf_counter()
        try:
            with resources.limits(memory="1G"), pytest.raises(ValueError) as low:
                call()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        for e in (first, low):
            assert name in str(e.value).split(":")[0].split(", "), str(e.value)
        assert time.perf_counter() - start < 10 and peak < 2 ** 24, (time.perf_counter() - start, peak)
        return str(first.value)
    return check


@pytest.fixture
def traced():
    """`traced(call)`: (the result of call(), its peak traced allocation in bytes), after a first call that
    compiles and fills the caches."""
    def run(call):
        call()
        tracemalloc.start()
        try:
            out = call()
            return out, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return run


@pytest.fixture
def estimate():
    """`estimate(scenario, call, result=False, **arguments)`: the bytes scenario.needs(call, **arguments) states
    (with `result`, only those that stay in the result)."""
    def total(scenario, call: str, result: bool = False, **arguments) -> float:
        return sum(n.bytes for n in scenario.needs(call, **arguments) if n.result or not result)
    return total


@pytest.fixture
def result_bytes():
    """`result_bytes(ds)`: the bytes of a result's variables and coordinates."""
    return lambda ds: float(sum(v.nbytes for v in ds.variables.values()))
