"""Run one command as a child process and measure it: wall time, CPU time, peak memory.

Why our own helper rather than `/usr/bin/time -v`: that binary is not installed everywhere,
and the kernel's max-RSS figure (RUSAGE_CHILDREN) is the largest *single* process, while a
tool that forks workers holds the *sum* of its processes. So we take CPU time (user + sys of
the child and every descendant it waited for) from `os.wait4`, and sample the summed
memory of the whole process tree from /proc while it runs (PSS, so pages that forked
workers share are counted once).

Standard library only: the competitor runners import this module from their own
virtual environments (Python 3.11 and 3.12), so it must not depend on anything installed.
"""

from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")
_MB = 1024 * 1024


@dataclass
class Measurement:
    """What one measured child process cost."""

    cmd: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    # The headline figure: max(sampled peak of the tree's summed PSS, kernel's exact peak
    # RSS of its largest single process). Shared pages are counted once.
    peak_rss_mb: float
    tree_rss_sum_peak_mb: float  # sampled peak of summed RSS: an upper bound (double counts)
    max_rss_single_mb: float  # kernel's figure: the largest single process in the tree
    stdout_path: str
    stderr_path: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _children(pid: int) -> list[int]:
    """Direct children of pid, read from /proc/<pid>/task/*/children."""
    out: list[int] = []
    try:
        for task in os.scandir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task.name}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                continue
    except OSError:
        pass
    return out


def _rss_pss_bytes(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process. PSS splits shared pages among their sharers, so the PSS
    of a forked tree adds up to what it really holds; summed RSS counts them twice."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except (OSError, IndexError, ValueError):
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss = pss = int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            pass
    return rss, pss


def tree_memory_bytes(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of root and all of its descendants right now."""
    rss_total = pss_total = 0
    stack, seen = [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        rss, pss = _rss_pss_bytes(pid)
        rss_total += rss
        pss_total += pss
        stack.extend(_children(pid))
    return rss_total, pss_total


class _Sampler(threading.Thread):
    """Polls the tree's summed RSS and PSS until told to stop; keeps the maxima."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss, pss = tree_memory_bytes(self.pid)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()


def run_measured(
    cmd: Sequence[str],
    *,
    log_dir: Path,
    name: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    interval: float = 0.2,
) -> Measurement:
    """Run cmd to completion, its stdout/stderr going to <log_dir>/<name>.{out,err}."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path = log_dir / f"{name}.out"
    err_path = log_dir / f"{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env) if env is not None else None, stdout=out, stderr=err
        )
        sampler = _Sampler(proc.pid, interval)
        sampler.start()
        # wait4 (not Popen.wait) because it hands back this child's own rusage,
        # including every descendant the child waited for.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        sampler.stop()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    max_single = usage.ru_maxrss * 1024  # Linux reports KiB
    return Measurement(
        cmd=list(cmd),
        returncode=proc.returncode,
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        user_s=round(usage.ru_utime, 3),
        sys_s=round(usage.ru_stime, 3),
        peak_rss_mb=round(max(sampler.peak_pss, max_single) / _MB, 1),
        tree_rss_sum_peak_mb=round(sampler.peak_rss / _MB, 1),
        max_rss_single_mb=round(max_single / _MB, 1),
        stdout_path=str(out_path),
        stderr_path=str(err_path),
    )


def tail(path: str | Path, n_chars: int = 2000) -> str:
    """Last n_chars of a log file, for error reports."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ""
    return data[-n_chars:].decode("utf-8", errors="replace")


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: they only mean something next to this."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "mem_total_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()),
    }


_MARKER = ".benchmark-workdir"


def fresh_workdir(path: Path) -> Path:
    """Empty (or create) a scratch directory, refusing to wipe one we did not make.

    Tools like datatrove skip work whose completion markers they find, and datasets
    reuses cached map results, so every measured run needs a clean directory.
    """
    import shutil

    if path.exists():
        if any(path.iterdir()) and not (path / _MARKER).exists():
            raise SystemExit(f"refusing to empty {path}: not a benchmark work directory")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / _MARKER).touch()
    return path
