"""Progress of long computations on stderr: a rich bar on a terminal, plain lines elsewhere, or nothing.

When stderr is not a terminal (a batch job, a pipe, a log file), a line `description: done/total
(percent), rate, time left` is printed every `LINE_EVERY` seconds, and a closing line if any was.
"""
from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator

LINE_EVERY = 5.0
"""Seconds between progress lines when stderr is not a terminal."""


class _Lines:
    """Plain progress lines on stderr, at most one per LINE_EVERY seconds."""

    def __init__(self, description: str, total: int):
        self.description, self.total, self.done = description, max(int(total), 1), 0
        self.start = self.last = time.monotonic()
        self.printed: int | bool = False  # the count of the last line printed

    def update(self, done: int, extra: str = "", final: bool = False) -> None:
        self.done = done
        now = time.monotonic()
        if not final and now - self.last < LINE_EVERY:
            return
        if final and (self.printed in (False, done)):  # nothing shown, or this count was the last line
            return
        self.last, self.printed = now, done
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate > 0 else float("inf")
        tail = "done" if final else f"{_duration(left)} left"
        print(f"{self.description}: {done}/{self.total} ({100 * done / self.total:.0f}%), {rate:.3g}/s, "
              f"{_duration(elapsed)} elapsed, {tail}{extra}", file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "unknown time"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _columns(*extra):
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *extra,
            TimeElapsedColumn(), TimeRemainingColumn())


@contextlib.contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n)`; shows progress on stderr when enabled (see the module docstring).

    **Arguments:** `description`: the label; `total`: the units of work; `enabled` (default True).

    **Returns:** a context manager yielding `advance(n)`, which counts n more units done."""
    if not enabled:
        yield lambda n: None
        return
    if not sys.stderr.isatty():
        lines = _Lines(description, total)
        yield lambda n: lines.update(lines.done + n)
        lines.update(lines.done, final=True)
        return
    from rich.progress import Progress

    with Progress(*_columns(), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextlib.contextmanager
def sweep_progress(description: str, total: int, enabled: bool = True) -> Iterator[Callable[[int, int, int], None]]:
    """Yield `show(completed, running, failed)` for a sweep of `total` tasks; progress on stderr when enabled.

    **Arguments:** `description`: the label; `total`: the tasks; `enabled` (default True).

    **Returns:** a context manager yielding `show(completed, running, failed)` (the counts so far)."""
    if not enabled:
        yield lambda completed, running, failed: None
        return
    if not sys.stderr.isatty():
        lines, state = _Lines(description, total), {"failed": 0}

        def show(completed, running, failed):
            state["failed"] = failed
            lines.update(completed + failed, f", {running} running, {failed} failed")

        yield show
        lines.update(lines.done, f", {state['failed']} failed", final=True)
        return
    from rich.progress import Progress, TextColumn

    columns = _columns(TextColumn("{task.fields[running]} running, {task.fields[failed]} failed"))
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total, running=0, failed=0)
        yield lambda completed, running, failed: bar.update(task, completed=completed + failed, running=running,
                                                            failed=failed)
