"""Executors: where jobs run. A small registry: a local process pool, or a Dask cluster.

An executor is a function ``(tasks, record, n_workers, scheduler) -> None`` that executes
each task with :func:`hna.batch.worker.execute_job` and calls ``record(result)`` in the
coordinating process as each finishes (in completion order; the outputs do not depend on it).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from hna.batch.failures import worker_failure
from hna.batch.worker import execute_job, worker_init
from hna.errors import ParameterError

__all__ = ["EXECUTORS", "Executor", "default_jobs", "prepare", "run_dask", "run_pool"]

Record = Callable[[Mapping[str, Any]], None]
Executor = Callable[[list[dict[str, Any]], Record, int, str | None], None]

_PRELOAD = ["hna.batch.worker", "papermill", "nbconvert"]


def default_jobs() -> int:
    """The default pool size: ``min(2, number of CPUs)``."""
    return max(1, min(2, os.cpu_count() or 1))


def _pool_context(start: bool = False) -> Any:
    """The multiprocessing context for pool workers: a fork server where available.

    Workers are forked from a fresh server process that has imported papermill and nbconvert
    once (slow imports), never from the coordinating process and its threads. With ``start``
    the server is started now, so those imports overlap with the job expansion.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    if start:
        forkserver.ensure_running()
    return context


def prepare(executor: str) -> None:
    """Start what the executor needs early (the fork server), overlapping other work."""
    if executor == "process":
        _pool_context(start=True)


def run_pool(tasks: list[dict[str, Any]], record: Record, n_workers: int,
             scheduler: str | None = None) -> None:
    """Execute the tasks on a local process pool of ``n_workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = _pool_context()
    others = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=min(n_workers, len(tasks)), mp_context=context,
                               initializer=worker_init, initargs=(os.getpid(),))
    clean = False
    try:
        futures = {pool.submit(execute_job, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker process died
                result = worker_failure(futures[future]["job_id"], exc,
                                        "the worker process failed")
            record(result)
        clean = True
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool, others)


def _stop_pool(pool: Any, others: set[Any]) -> None:
    """Cancel queued jobs and stop the pool's workers (each kills its kernel, cleans up)."""
    pool.shutdown(wait=False, cancel_futures=True)
    children = [c for c in multiprocessing.active_children() if c not in others]
    for child in children:
        try:
            child.terminate()
        except Exception:  # noqa: BLE001
            pass
    deadline = time.monotonic() + 10
    for child in children:
        child.join(timeout=max(0.1, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join(timeout=2)


def run_dask(tasks: list[dict[str, Any]], record: Record, n_workers: int,
             scheduler: str | None) -> None:
    """Execute the tasks on a Dask cluster (``scheduler`` address, or a local cluster)."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler in (None, "", "local"):
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError(f"cannot connect to the Dask scheduler ({exc})",
                                 field="--scheduler", value=scheduler) from None
    futures: list[Any] = []
    try:
        by_key = {}
        for task in tasks:
            future = client.submit(execute_job, task, pure=False, retries=0)
            futures.append(future)
            by_key[future.key] = task
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
                result = worker_failure(by_key[future.key]["job_id"], exc,
                                        "the Dask task failed")
            record(result)
    finally:
        try:
            if futures:
                client.cancel(futures, force=True)
        except Exception:  # noqa: BLE001
            pass
        client.close()
        if cluster is not None:
            cluster.close()


#: The executors by name, as ``hna run --executor`` takes them.
EXECUTORS: dict[str, Executor] = {"process": run_pool, "dask": run_dask}
