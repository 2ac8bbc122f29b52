"""Why a job failed: one record per failure, with a plain-English reason for reviewers.

Every failure record has ``kind``, ``ename``, ``evalue``, ``summary`` (one line for the
console and the log), ``reason`` (one plain-English line for the reports and the index: no
tracebacks, code, file paths or module names) and, where known, ``cell_index``,
``exec_count``, ``source`` and ``detail`` (the failing cell and a traceback excerpt, kept for
the manifest and the log only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["classify", "headline_error", "plain", "render_error", "worker_failure"]

_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PATH_RE = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/'\"(),:]+)+/([^\s/'\"(),:]+)")
_MODULE_RE = re.compile(r"\bhna(?:\.[a-z_][a-z0-9_]*)+")
_HNA_ERRORS = {"InputError", "ParameterError", "DataError", "HnaError"}
_KERNEL_LOG_NOISE = ("Kernel is running over TCP without encryption",)


def plain(text: Any, chars: int = 300) -> str:
    """One line of ``text`` fit for a reviewer, at most ``chars`` characters.

    ANSI codes are removed, paths cut to file names and module names replaced.
    """
    line = _ANSI_RE.sub("", str(text or "")).strip().splitlines()
    out = line[0].strip() if line else ""
    out = _PATH_RE.sub(lambda m: m.group(1), out)
    out = _MODULE_RE.sub("the toolkit", out)
    return out if len(out) <= chars else out[: chars - 3].rstrip() + "..."


def _excerpt(text: str | None, lines: int = 12, chars: int = 1200) -> str:
    if not text:
        return ""
    parts = _ANSI_RE.sub("", text).splitlines()
    if len(parts) > lines:
        parts = parts[:lines] + ["..."]
    out = "\n".join(parts)
    return out if len(out) <= chars else out[: chars - 3] + "..."


def _tail(text: str | None, lines: int = 15, chars: int = 2000) -> str:
    if not text:
        return ""
    parts = [
        line for line in _ANSI_RE.sub("", text).rstrip().splitlines()
        if not any(noise in line for noise in _KERNEL_LOG_NOISE)
    ][-lines:]
    out = "\n".join(parts)
    return out if len(out) <= chars else "..." + out[-(chars - 3):]


def _running_cell(running: Mapping[str, Any]) -> tuple[int | None, str]:
    """The cell that was executing when a job stopped (recorded as each cell started)."""
    source = running.get("source") or ""
    return running.get("index"), "".join(source) if isinstance(source, list) else str(source)


def _step(index: int | None) -> str:
    return f" in step {index}" if index is not None else ""


def _exception(exc: Any) -> dict[str, Any]:
    evalue = _ANSI_RE.sub("", str(exc.evalue))
    if exc.ename in _HNA_ERRORS:
        reason = f"The analysis stopped because of a problem with its inputs: {plain(evalue)}"
    else:
        reason = (f"The analysis stopped with an unexpected error ({exc.ename}){_step(exc.cell_index)}; "
                  "the run log and manifest have the details")
    return {
        "kind": "exception", "ename": exc.ename, "evalue": evalue,
        "cell_index": exc.cell_index, "exec_count": exc.exec_count,
        "source": _excerpt(exc.source), "detail": _tail("\n".join(exc.traceback or [])),
        "summary": f"{exc.ename}: {_excerpt(evalue, lines=1, chars=300)} "
        f"(cell {exc.cell_index}, In [{exc.exec_count}])",
        "reason": reason,
    }


def classify(exc: BaseException, *, timeout: float | None, running: Mapping[str, Any],
             kernel_log: str | None, exit_code: int | None) -> dict[str, Any]:
    """The failure record for an exception raised while executing a job.

    ``running`` holds the ``index`` and ``source`` of the cell that was executing.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return _exception(exc)
    if isinstance(exc, CellTimeoutError):
        index, source = _running_cell(running)
        count = None
        limit = f"{timeout:g} s" if timeout else "the time limit"
        return {
            "kind": "timeout", "ename": "Timeout", "evalue": f"the job did not finish within {limit}",
            "cell_index": index, "exec_count": count, "source": _excerpt(source), "detail": "",
            "summary": f"Timeout: the job did not finish within {limit}"
            + (f" (cell {index})" if index is not None else ""),
            "reason": f"The analysis did not finish within {limit}{_step(index)}",
        }
    if isinstance(exc, DeadKernelError):
        index, source = _running_cell(running)
        count = None
        status = f" with exit status {exit_code}" if exit_code is not None else ""
        return {
            "kind": "kernel_died", "ename": "DeadKernelError",
            "evalue": (str(exc) or "Kernel died")
            + (f" (exit status {exit_code})" if exit_code is not None else ""),
            "cell_index": index, "exec_count": count, "source": _excerpt(source),
            "detail": _tail(kernel_log),
            "summary": f"Kernel died{status}"
            + (f" while running cell {index}" if index is not None else ""),
            "reason": f"The notebook's Python process stopped unexpectedly{status}{_step(index)}",
        }
    ename = type(exc).__name__
    hna_error = ename in _HNA_ERRORS or type(exc).__module__.startswith("hna.")
    reason = (f"The job could not run: {plain(exc)}" if hna_error else
              f"The job could not run because of an unexpected error ({ename}); "
              "the run log and manifest have the details")
    return {
        "kind": "error", "ename": ename, "evalue": _excerpt(str(exc), lines=5, chars=600),
        "cell_index": None, "exec_count": None, "source": "", "detail": _tail(kernel_log),
        "summary": f"{ename}: {_excerpt(str(exc), lines=1, chars=300)}", "reason": reason,
    }


def headline_error(exc: BaseException) -> dict[str, Any]:
    """The failure record for a headline file that is not JSON."""
    return {"kind": "error", "ename": "HeadlineError", "evalue": str(exc),
            "summary": f"HeadlineError: unreadable headline JSON ({exc})",
            "reason": "The analysis ran but its headline results could not be read"}


def render_error(exc: BaseException) -> dict[str, Any]:
    """The failure record for an HTML report that could not be rendered."""
    return {"kind": "render", "ename": type(exc).__name__, "evalue": str(exc),
            "summary": f"Rendering the HTML report failed: {type(exc).__name__}: {exc}",
            "reason": "The analysis ran but its report could not be rendered"}


def worker_failure(job_id: str, exc: BaseException, what: str) -> dict[str, Any]:
    """The result of a job whose worker process (or Dask task) failed."""
    return {
        "job_id": job_id, "status": "failed", "ipynb": None, "html": None,
        "headline": None, "inputs": {}, "started": None, "duration_s": None, "worker": None,
        "error": {
            "kind": "worker", "ename": type(exc).__name__, "evalue": str(exc),
            "summary": f"{what}: {type(exc).__name__}: {exc}",
            "reason": "The process running this job stopped unexpectedly; run again to retry",
        },
    }
