"""Executors for the independent tasks of a simulation sweep: in this process, a local pool of
worker processes, or a Dask cluster (`distributed`).

Each has one verb, `run(fn, tasks, keys)`, a generator of `(index, result, error)` as tasks finish
(in any order), interleaved with `None` about twice a second so that a progress display can
refresh; `running` counts the tasks being computed now. Leaving the generator early (an error, a
Ctrl-C) cancels what has not finished and shuts the workers down. `keys` name the tasks (the
points' content hashes); only Dask uses them.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import traceback
from typing import Callable, Iterator, Sequence

__all__ = ["Dask", "InProcess", "LocalProcesses", "TICK"]

TICK = 0.5
"""Seconds between refreshes of the progress display while waiting for tasks."""


def _describe(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(error), error)).strip()


class InProcess:
    """Run the tasks one after another in this process (the default: no setup, JAX uses every core).

    **Arguments:** none. **Returns:** `run(fn, tasks, keys)` yields `(index, result, error)` per task, in order
    (`error`: the exception's text, None on success)."""

    workers = 1
    running = 0

    def run(self, fn: Callable, tasks: Sequence, keys: Sequence[str] | None = None) -> Iterator:
        for i, task in enumerate(tasks):
            self.running = 1
            try:
                result, error = fn(task), None
            except Exception as e:  # a failed point is recorded, not fatal
                result, error = None, _describe(e)
            self.running = 0
            yield i, result, error

    def __repr__(self) -> str:
        return "in-process"


class LocalProcesses:
    """A pool of `workers` fresh Python processes (spawned, not forked: JAX is not fork-safe).

    A worker process that dies breaks the pool: the tasks not finished then are recorded as failed
    (`--retry-failed` reruns them), where Dask would rerun them by itself.

    **Arguments:** `workers`: the number of processes (an integer >= 1).

    **Returns:** `run(fn, tasks, keys)` yields `(index, result, error)` as tasks finish, in any order, and None
    about twice a second while waiting."""

    def __init__(self, workers: int):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
        self.workers = workers
        self.running = 0

    def run(self, fn: Callable, tasks: Sequence, keys: Sequence[str] | None = None) -> Iterator:
        pool = cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            index = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
            pending = set(index)
            while pending:
                done, pending = cf.wait(pending, timeout=TICK, return_when=cf.FIRST_COMPLETED)
                self.running = sum(f.running() for f in pending)
                for f in done:
                    error = f.exception()
                    yield index[f], None if error else f.result(), _describe(error) if error else None
                if not done:
                    yield None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.running = 0

    def __repr__(self) -> str:
        return f"{self.workers} local processes"


class Dask:
    """A Dask cluster: an existing scheduler at `address`, or a LocalCluster of `workers` processes.

    A task whose worker dies is rerun elsewhere by the scheduler; one that kills
    `distributed.scheduler.allowed-failures` workers in turn fails with KilledWorker.
    Tasks are keyed by the point's content hash (`keys`), so a point is computed once per cluster.

    **Arguments:** exactly one of `address`: a scheduler's address (e.g. 'tcp://host:8786'); `workers`: the
    processes of a new LocalCluster (an integer >= 1).

    **Returns:** `run(fn, tasks, keys)` yields `(index, result, error)` as tasks finish, in any order, and None
    about twice a second while waiting.
    """

    def __init__(self, address: str | None = None, workers: int | None = None):
        if (address is None) == (workers is None):
            raise ValueError("Dask needs either address (an existing scheduler) or workers (a local cluster)")
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be an integer >= 1; got {workers!r}")
        self.address, self.workers, self.running = address, workers, 0

    def _client(self):
        from distributed import Client, LocalCluster

        if self.address is not None:
            try:
                return Client(self.address, timeout="10s"), None
            except OSError as e:
                raise ValueError(f"cluster: cannot reach a Dask scheduler at {self.address!r} ({e})") from None
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster

    def run(self, fn: Callable, tasks: Sequence, keys: Sequence[str] | None = None) -> Iterator:
        from distributed import wait

        client, cluster = self._client()
        futures = []
        try:
            keys = keys or [None] * len(tasks)
            futures = [client.submit(fn, task, key=key, pure=False) for task, key in zip(tasks, keys)]
            index = {f.key: i for i, f in enumerate(futures)}
            pending = set(futures)
            while pending:
                try:
                    done, pending = wait(pending, timeout=TICK, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                self.running = sum(len(v) for v in client.processing().values())
                for f in done:
                    if f.status == "finished":
                        yield index[f.key], f.result(), None
                    else:
                        yield index[f.key], None, _describe(f.exception())
                    f.release()
                if not done:
                    yield None
        finally:
            if futures:
                client.cancel(futures)
            client.close()
            if cluster is not None:
                cluster.close()
            self.running = 0

    def __repr__(self) -> str:
        return f"Dask scheduler at {self.address}" if self.address else f"Dask LocalCluster of {self.workers} workers"
