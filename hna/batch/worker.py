"""The worker side: execute one job in a fresh, pre-started kernel and return its results.

Each worker process (a pool process or a Dask worker) keeps one spare kernel: while a job
runs, the kernel for the next job is already starting and importing ``hna`` and the
toolkit's light modules (:data:`KERNEL_PRELOAD`). Every kernel serves exactly one job and is
then killed, so every job still starts from a fresh interpreter.

Each kernel records the files it opens for reading (a :func:`sys.addaudithook` hook, see
:data:`_TRACE_SNIPPET`), so the resume key of a job covers the service, model, footprint and
data files it actually read, wherever they live. Each kernel sets the Linux parent-death
signal on itself (:data:`_DEATH_SNIPPET`), so it dies with its worker; a worker started by
:func:`worker_init` exits as soon as the coordinating process is gone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from hna.batch import failures
from hna.batch.safety import check_injected_code
from hna.report import HEADLINE_ENV, TABLES_ENV, atomic_write_json, render_html

__all__ = ["KERNEL_PRELOAD", "TRACE_ENV", "execute_job", "worker_init"]

log = logging.getLogger(__name__)

#: Environment variable naming the file where a kernel lists the files it read.
TRACE_ENV = "HNA_TRACE_PATH"

#: Modules every pre-started kernel imports before its job (the floor of a job's cost).
KERNEL_PRELOAD = ("hna", "hna.report")

# Runs first in every kernel (IPKernelApp.exec_lines): list each file opened for reading,
# once, in the file named by HNA_TRACE_PATH. Library, system and hidden files are left out:
# code is covered by the code hash, installed packages by the hna version.
_TRACE_SNIPPET = r"""
def _hna_trace():
    import os, sys
    target = os.environ.get("HNA_TRACE_PATH")
    if not target:
        return
    skip = tuple(sorted({p.rstrip(os.sep) + os.sep for p in (
        sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr", "/etc", "/proc", "/sys", "/dev",
        os.path.dirname(target))} | {os.path.join(os.path.expanduser("~"), ".")}))
    code = (".py", ".pyc", ".so", ".pth", ".pyi")
    writes = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT
    out = open(target, "a", encoding="utf-8")
    seen, busy = set(), [False]
    def hook(event, args):
        if event != "open" or busy[0]:
            return
        name, mode, flags = args
        if not isinstance(name, str) or name.endswith(code):
            return
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return
        if mode is None and isinstance(flags, int) and flags & writes:
            return
        busy[0] = True
        try:
            path = os.path.abspath(name)
            if path not in seen and not path.startswith(skip) and os.path.isfile(path):
                seen.add(path)
                out.write(path + "\n")
                out.flush()
        except Exception:
            pass
        finally:
            busy[0] = False
    sys.addaudithook(hook)
_hna_trace()
del _hna_trace
"""

# Runs first in every kernel: ask Linux to kill this kernel when its worker dies (without a
# preexec_fn, which would stop subprocess from using its fast vfork path), then check that
# the worker did not die before the request was made.
_DEATH_SNIPPET = r"""
def _hna_die_with_parent():
    import os, signal
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        return
    expected = os.environ.get("HNA_WORKER_PID")
    if expected and os.getppid() != int(expected):
        os._exit(1)
_hna_die_with_parent()
del _hna_die_with_parent
"""

_KM_CLASS: Any = None
_LIVE_KMS: dict[str, list[Any]] = {}
_LIVE_LOCK = threading.Lock()
_ACTIVE_WORKDIRS: set[str] = set()
_SPARE: dict[int, Any] = {}


def _kernel_manager_class() -> Any:
    """A jupyter_client kernel manager that gives each job's kernel its env, cwd and log."""
    global _KM_CLASS
    if _KM_CLASS is None:
        from jupyter_client.manager import AsyncKernelManager
        from traitlets import Dict, Unicode

        class HnaKernelManager(AsyncKernelManager):
            """Starts the kernel with the job's environment, working folder and log file."""

            job_env = Dict(config=True)
            job_cwd = Unicode("", config=True)
            job_log = Unicode("", config=True)
            job_token = Unicode("", config=True)

            async def start_kernel(self, **kw: Any) -> None:
                env = dict(kw.pop("env", None) or os.environ)
                env.update({str(k): str(v) for k, v in self.job_env.items()})
                kw["env"] = env
                if self.job_cwd:
                    kw.setdefault("cwd", self.job_cwd)
                handle = open(self.job_log, "ab") if self.job_log else None  # noqa: SIM115
                try:
                    if handle is not None:
                        kw.setdefault("stdout", handle)
                        kw.setdefault("stderr", handle)
                    await super().start_kernel(**kw)
                finally:
                    if handle is not None:
                        handle.close()
                with _LIVE_LOCK:
                    _LIVE_KMS.setdefault(self.job_token, []).append(self)

        _KM_CLASS = HnaKernelManager
    return _KM_CLASS


class _Slot:
    """One kernel for one job: its private folder, files, token and (once started) manager."""

    def __init__(self, kernel_name: str, cwd: str | None) -> None:
        self.kernel_name = kernel_name
        self.workdir = Path(tempfile.mkdtemp(prefix="hna-job-"))
        _ACTIVE_WORKDIRS.add(str(self.workdir))
        self.cwd = cwd if cwd and os.path.isdir(cwd) else str(self.workdir)
        self.token = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
        self.headline = self.workdir / "headline.json"
        self.tables_config = self.workdir / "tables.json"
        self.tables = self.workdir / "tables"
        self.trace = self.workdir / "inputs.txt"
        self.log = self.workdir / "kernel.log"
        self.out_nb = self.workdir / "executed.ipynb"
        self.km: Any = None
        self.running: dict[str, Any] = {}

    def start(self) -> None:
        """Launch the kernel process (returns at once; the kernel boots in the background)."""
        asyncio.run(self.start_async())

    async def start_async(self) -> None:
        """Launch the kernel process from a running event loop."""
        preload = "import " + ", ".join(KERNEL_PRELOAD)
        km = _kernel_manager_class()(
            kernel_name=self.kernel_name, job_env={HEADLINE_ENV: str(self.headline),
                                                   TABLES_ENV: str(self.tables_config),
                                                   TRACE_ENV: str(self.trace),
                                                   "HNA_WORKER_PID": str(os.getpid())},
            job_cwd=self.cwd, job_log=str(self.log), job_token=self.token,
        )
        lines = json.dumps([_DEATH_SNIPPET, _TRACE_SNIPPET, preload])
        await km.start_kernel(extra_arguments=[
            f"--IPKernelApp.exec_lines={lines}", "--HistoryManager.enabled=False"])
        self.km = km

    def assign(self, task: Mapping[str, Any]) -> None:
        """Tell the (already started) kernel where this job's tables' CSV files go.

        The kernel reads :data:`hna.report.TABLES_ENV`'s file when it shows its first table:
        files go into the slot's ``tables`` folder and are linked as ``<tables_href>/<name>``,
        the folder's name beside the report. Without ``tables_href`` nothing is written and the
        kernel embeds each CSV in its link.
        """
        href = task.get("tables_href")
        if href:
            atomic_write_json(self.tables_config, {"folder": str(self.tables),
                                                   "href": str(href)})

    def matches(self, kernel_name: str, cwd: str | None) -> bool:
        """True if this kernel was started for that kernel name and working folder."""
        wanted = cwd if cwd and os.path.isdir(cwd) else None
        return self.kernel_name == kernel_name and (wanted is None or wanted == self.cwd)

    def discard(self) -> None:
        """Kill the kernel and delete the folder."""
        _kill_leftover_kernels(self.token)
        shutil.rmtree(self.workdir, ignore_errors=True)
        _ACTIVE_WORKDIRS.discard(str(self.workdir))


def _take_slot(kernel_name: str, cwd: str | None) -> _Slot:
    """The spare kernel if it suits this job, else a new one; then start the next spare.

    The spare is started at once: most of a light job is its kernel's start, so the next
    kernel boots while this one boots and runs.
    """
    key = threading.get_ident()
    spare = _SPARE.pop(key, None)
    if spare is not None and not spare.matches(kernel_name, cwd):
        spare.discard()
        spare = None
    slot = spare or _Slot(kernel_name, cwd)
    if slot.km is None:
        slot.start()
    try:
        nxt = _Slot(kernel_name, cwd)
        _SPARE[key] = nxt
        nxt.start()
    except Exception:  # noqa: BLE001 - no spare: the next job starts its own kernel
        spare = _SPARE.pop(key, None)
        if spare is not None:
            spare.discard()
    return slot


def _cell_tracker(running: dict[str, Any]) -> Any:
    """An nbclient ``on_cell_start`` hook that remembers the cell being executed."""

    def hook(cell: Any, cell_index: int, **_: Any) -> None:
        running.update(index=cell_index, source=cell.get("source", ""))

    return hook


def _kill_leftover_kernels(token: str, *, lock: bool = True) -> None:
    """Kill the kernels of a job that are still running."""
    if lock:
        with _LIVE_LOCK:
            managers = _LIVE_KMS.pop(token, [])
    else:  # from a signal handler, which must not wait for a lock its own thread may hold
        managers = _LIVE_KMS.pop(token, [])
    for km in managers:
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is None:
            continue
        try:
            if process.poll() is None:  # not yet reaped, so the pid is still the kernel's
                if hasattr(os, "killpg"):  # the kernel leads its own process group
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # pragma: no cover - Windows
                    process.kill()
                process.wait(timeout=5)
        except Exception:  # noqa: BLE001 - best effort
            pass


def _kernel_exit_code(token: str) -> int | None:
    with _LIVE_LOCK:
        managers = list(_LIVE_KMS.get(token, []))
    for km in reversed(managers):
        process = getattr(getattr(km, "provisioner", None), "process", None)
        code = getattr(process, "returncode", None) if process is not None else None
        if code is not None:
            return int(code)
    return None


def _quiet_logs() -> None:
    # Failures are reported in the manifest and the index; the libraries' own log lines
    # (unknown parameters, "Kernel died", timeouts) would only interleave with the progress bar.
    for name in ("papermill", "traitlets", "nbclient", "jupyter_client", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def file_hashes(paths: list[str]) -> dict[str, str]:
    """SHA-256 of each file that exists, keyed by path (sorted)."""
    out: dict[str, str] = {}
    for path in sorted(set(paths)):
        try:
            with open(path, "rb") as fh:
                out[path] = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError:
            continue
    return out


def _run_papermill(task: Mapping[str, Any], slot: _Slot, deadline: float | None) -> None:
    """Execute the notebook in the slot's kernel (raises what papermill raises)."""
    import nbformat
    import papermill

    timeout = task.get("timeout")

    def cell_timeout(cell: Any) -> float | None:
        if deadline is None:
            return None
        return max(0.05, deadline - time.monotonic())

    nb = nbformat.reads(task["notebook_json"], as_version=4)
    check_injected_code(task["parameters"])
    papermill.execute_notebook(
        nb,
        str(slot.out_nb).replace("{", "{{").replace("}", "}}"),
        parameters=dict(task["parameters"]),
        kernel_name=slot.kernel_name,
        progress_bar=False,
        log_output=False,
        start_timeout=max(1, int(min(60, timeout))) if timeout else 60,
        km=slot.km,
        timeout_func=cell_timeout,
        on_cell_start=_cell_tracker(slot.running),
        request_save_on_cell_execute=False,
    )


def _kernel_name(task: Mapping[str, Any]) -> str:
    if task.get("kernel_name"):
        return str(task["kernel_name"])
    nb = json.loads(task["notebook_json"])
    return ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name") or "python3"


def _read_tables(folder: Path) -> dict[str, str]:
    """The CSV files a job's kernel wrote, by file name (sorted)."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.csv")):
        text = _read_text(path)
        if text is not None:
            out[path.name] = text
    return out


def _collect(task: Mapping[str, Any], slot: _Slot, result: dict[str, Any],
             error: dict[str, Any] | None) -> dict[str, Any] | None:
    """Gather the executed notebook, headline, inputs read and HTML into ``result``."""
    result["ipynb"] = _read_text(slot.out_nb)
    result["inputs"] = file_hashes((_read_text(slot.trace) or "").splitlines())
    result["tables"] = _read_tables(slot.tables)
    if slot.headline.exists():
        try:
            result["headline"] = json.loads(slot.headline.read_text(encoding="utf-8"))
        except ValueError as exc:
            error = error or failures.headline_error(exc)
    if result["ipynb"] is not None:
        meta = dict(task.get("meta") or {})
        meta["status"] = "ok" if error is None else "failed"
        meta["error"] = error
        try:
            result["html"] = render_html(slot.out_nb, meta, show_code=bool(task.get("show_code")))
        except Exception as exc:  # noqa: BLE001
            error = error or failures.render_error(exc)
    return error


def execute_job(task: Mapping[str, Any]) -> dict[str, Any]:
    """Execute one job with papermill and return its results; never raises for job failures.

    Runs in a worker (a pool process or a Dask worker). ``task`` carries the notebook's
    content, the validated parameters, the kernel name, the time limit and the report
    metadata; everything the job produces is returned, not written to the output folder:
    ``{"status": "ok"|"failed", "error", "ipynb", "html", "headline", "inputs", "tables",
    "started", "duration_s", "worker"}`` (``inputs``: SHA-256 of each file the kernel read;
    ``tables``: the text of each table's CSV file by name, see :func:`hna.report.write_table_csv`).

    The kernel runs in the notebook's folder (when it exists on this machine) with
    :data:`hna.report.HEADLINE_ENV` and :data:`hna.report.TABLES_ENV` pointing into a private
    temporary folder; the coordinator writes what comes back into the output folder, so an
    interrupted job leaves nothing half-written there. The time limit
    is a wall-clock deadline for the whole job, applied to each cell's wait.
    """
    _quiet_logs()
    t0 = time.monotonic()
    result: dict[str, Any] = {
        "job_id": task["job_id"], "status": "failed", "error": None, "ipynb": None,
        "html": None, "headline": None, "inputs": {}, "tables": {},
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "duration_s": None, "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    slot: _Slot | None = None
    try:
        slot = _take_slot(_kernel_name(task), task.get("notebook_dir"))
        slot.assign(task)
        timeout = task.get("timeout")
        error: dict[str, Any] | None = None
        try:
            _run_papermill(task, slot, t0 + timeout if timeout else None)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes
            error = failures.classify(exc, timeout=timeout, running=slot.running,
                                      kernel_log=_read_text(slot.log),
                                      exit_code=_kernel_exit_code(slot.token))
        error = _collect(task, slot, result, error)
        result["error"] = error
        result["status"] = "ok" if error is None else "failed"
    except Exception as exc:  # noqa: BLE001 - e.g. the kernel could not be started
        result["error"] = failures.classify(exc, timeout=None, running={}, kernel_log=None,
                                            exit_code=None)
    finally:
        if slot is not None:
            slot.discard()
        result["duration_s"] = round(time.monotonic() - t0, 3)
    return result


def _terminate_worker(signum: int, frame: Any) -> None:
    """SIGTERM in a pool worker: kill this worker's kernels, delete its job folders, exit."""
    _shutdown_worker()
    os._exit(128 + signum)


def _shutdown_worker() -> None:
    for token in list(_LIVE_KMS):
        _kill_leftover_kernels(token, lock=False)
    for workdir in list(_ACTIVE_WORKDIRS):
        shutil.rmtree(workdir, ignore_errors=True)


def _watch_parent(pid: int, interval: float = 0.5) -> None:
    """Exit this worker (and kill its kernels) as soon as process ``pid`` has gone."""
    while True:
        time.sleep(interval)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _shutdown_worker()
            os._exit(1)
        except PermissionError:  # pragma: no cover - pid reused by another user's process
            _shutdown_worker()
            os._exit(1)


def _release_spares() -> None:
    for key in list(_SPARE):
        spare = _SPARE.pop(key, None)
        if spare is not None:
            spare.discard()


def worker_init(parent_pid: int | None = None) -> None:
    """Pool worker set-up: ignore Ctrl-C (the coordinator handles it), die with the parent.

    SIGTERM kills this worker's kernels and removes its job folders; a watcher thread does
    the same and exits when ``parent_pid`` (the coordinating ``hna run``) has gone, even if
    it was killed with SIGKILL.
    """
    from multiprocessing.util import Finalize

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    _quiet_logs()
    Finalize(None, _release_spares, exitpriority=10)  # multiprocessing skips atexit
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True,
                         name="hna-parent-watch").start()
    import nbconvert  # noqa: F401 - warm the imports once per worker
    import papermill  # noqa: F401
