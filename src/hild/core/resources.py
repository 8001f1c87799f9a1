"""Resource guards: what a call will need, estimated before anything is allocated, and refused when it cannot fit.

A model states what a call needs as `Need`s: an array it holds (bytes) or the arithmetic it does
(operations), each naming the parameters it grows with. `admit` adds them up and raises a
ValueError naming the parameters of the largest need, the estimate and the limit:

- memory: the machine's available memory (`MemAvailable` of /proc/meminfo), or `HILD_MAX_MEMORY`
  (e.g. `8G`, `512M`; the CLI's `--max-memory`);
- time: `HILD_MAX_TIME` (e.g. `2h`, `7d`; the CLI's `--max-time`; default 7 days), the operations
  counted at a nominal 10^9 per second (an order of magnitude, not a promise).

Work that fits is allowed, however long, and shows progress where the model can.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

__all__ = ["Need", "admit", "array", "available_memory", "limits", "parse_bytes", "parse_seconds"]

OPERATIONS_PER_SECOND = 1e9
"""The nominal rate at which estimated operations are turned into time."""
DEFAULT_MAX_TIME = 7 * 86400.0
_UNITS = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}
_SECONDS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_override: contextvars.ContextVar[dict] = contextvars.ContextVar("hild_resource_limits", default={})


@dataclass(frozen=True)
class Need:
    """What one part of a call needs: `bytes` of memory and / or `operations` of arithmetic.

    `what` says what it is ("the recorded order parameters"), `parameters` the arguments it grows
    with, named in the refusal. `result`: the bytes stay in the returned result (a sweep keeps the
    results of all its points, but the working memory of one batch at a time).

    **Arguments:** `what`: a description; `parameters`: the parameter names it grows with; `bytes`, `operations`:
    the estimates (>= 0, default 0); `result`: whether the bytes are part of the result (default False)."""

    what: str
    parameters: tuple[str, ...]
    bytes: float = 0.0
    operations: float = 0.0
    result: bool = False


def array(*shape, itemsize: int = 8) -> float:
    """The bytes of an array of this shape.

    **Arguments:** `shape`: the dimensions; `itemsize`: bytes per element (default 8, float64).

    **Returns:** the bytes, a float (so that absurd shapes do not overflow)."""
    return float(math.prod(float(n) for n in shape)) * itemsize


def _quantity(name: str, text, units: dict, what: str, ignored: tuple[str, ...] = ()) -> float:
    """A positive number with an optional unit suffix (a key of `units`, longest first) times that unit;
    the suffixes `ignored` are dropped first (e.g. the 'iB' of '512MiB')."""
    if isinstance(text, (int, float)):
        number, unit = float(text), ""
    else:
        value = str(text).strip().lower()
        for suffix in ignored:
            value = value.removesuffix(suffix)
        unit = next((u for u in sorted(units, key=len, reverse=True) if u and value.endswith(u)), "")
        try:
            number = float(value[:len(value) - len(unit)])
        except ValueError:
            raise ValueError(f"{name} must be {what}; got {text!r}") from None
    if not number > 0:
        raise ValueError(f"{name} must be positive, {what}; got {text!r}")
    return number * units[unit]


def parse_bytes(name: str, text) -> float:
    """A memory size from text.

    **Arguments:** `name`: the option named in errors; `text`: '8G', '512M', '2.5GB', '512MiB', '1e9' (bytes),
    'inf' or a positive number.

    **Returns:** the bytes, a float > 0; ValueError otherwise."""
    return _quantity(name, text, _UNITS, "a size like 8G, 512M or a number of bytes", ignored=("ib", "b"))


def parse_seconds(name: str, text) -> float:
    """A duration from text.

    **Arguments:** `name`: the option named in errors; `text`: '90', '90s', '30min', '2h', '7d', 'inf' or a
    positive number.

    **Returns:** the seconds, a float > 0; ValueError otherwise."""
    return _quantity(name, text, _SECONDS, "a duration like 90s, 30min, 2h, 7d")


def available_memory() -> float:
    """The memory the machine can give without swapping: MemAvailable, else physical memory.

    **Arguments:** none. **Returns:** bytes, a float (inf where neither can be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def memory_limit() -> tuple[float, str]:
    """The memory limit in bytes and where it comes from.

    **Arguments:** none. **Returns:** (bytes, a float; its source, a str)."""
    given = _override.get().get("memory") or os.environ.get("HILD_MAX_MEMORY")
    if given is not None:
        return parse_bytes("max_memory", given), "--max-memory / HILD_MAX_MEMORY"
    return available_memory(), "the machine's available memory; raise it with --max-memory or HILD_MAX_MEMORY"


def time_limit() -> tuple[float, str]:
    """The time limit in seconds and where it comes from.

    **Arguments:** none. **Returns:** (seconds, a float; its source, a str)."""
    given = _override.get().get("time") or os.environ.get("HILD_MAX_TIME")
    if given is not None:
        return parse_seconds("max_time", given), "--max-time / HILD_MAX_TIME"
    return DEFAULT_MAX_TIME, "the default; raise it with --max-time or HILD_MAX_TIME"


@contextlib.contextmanager
def limits(memory=None, time=None) -> Iterator[None]:
    """A context manager: use these limits inside the block.

    **Arguments:** `memory`: a size like '8G'; `time`: a duration like '2h' (None keeps the default; both
    checked on entry).

    **Returns:** the context manager (it yields None)."""
    given = {key: value for key, value in (("memory", memory), ("time", time)) if value is not None}
    if "memory" in given:
        parse_bytes("max_memory", given["memory"])
    if "time" in given:
        parse_seconds("max_time", given["time"])
    token = _override.set({**_override.get(), **given})
    try:
        yield
    finally:
        _override.reset(token)


def show_bytes(n: float) -> str:
    """**Arguments:** `n`: bytes. **Returns:** text such as '1.5 GiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"


def show_seconds(s: float) -> str:
    """**Arguments:** `s`: seconds. **Returns:** text such as '2.5 hours'."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def admit(call: str, needs: Iterable[Need]) -> None:
    """Refuse a call whose summed needs exceed the memory or the time limit.

    **Arguments:** `call`: what is asked ("committee simulate"), named in the error; `needs`: its `Need`s.

    **Returns:** None; ValueError naming the parameters of the largest need, the estimate and the limit."""
    needs = list(needs)
    memory = sum(n.bytes for n in needs)
    limit, source = memory_limit()
    if memory > limit:
        top = max(needs, key=lambda n: n.bytes)
        raise ValueError(f"{', '.join(top.parameters)}: {call} needs an estimated {show_bytes(memory)} of memory "
                         f"({top.what}: {show_bytes(top.bytes)}), above the limit of {show_bytes(limit)} ({source}); "
                         f"lower {' or '.join(top.parameters)}")
    seconds = sum(n.operations for n in needs) / OPERATIONS_PER_SECOND
    limit, source = time_limit()
    if seconds > limit:
        top = max(needs, key=lambda n: n.operations)
        raise ValueError(f"{', '.join(top.parameters)}: {call} needs an estimated {show_seconds(seconds)} "
                         f"({top.what}, at a nominal 10^9 operations per second), above the limit of "
                         f"{show_seconds(limit)} ({source}); lower {' or '.join(top.parameters)}")
