"""Crash safety at benchmark size: SIGKILL a run mid-stage, rerun it, compare with a clean run.

    .venv/bin/python benchmarks/scale/kill_resume.py --size 0.5M --workers 2

1. an uninterrupted ``tinlap dedup`` of the amplified corpus (``amplify.py``, cached);
2. the same command in a fresh work folder, killed with SIGKILL (the whole process group:
   driver and workers, as a power cut would) once ``--kill-fraction`` of the ``--kill-stage``
   tasks have finished;
3. the same command again: it must finish, reuse the tasks finished before the kill, and write
   byte-identical output.

Results go to benchmarks/results/kill-resume-DATE.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import TINLAP, corpus, digest, parse_size  # noqa: E402


def command(inputs: list[str], out: Path, work: Path, workers: int, memory: str) -> list[str]:
    return [*TINLAP, *inputs, "-o", str(out), "--work", str(work), "-j", str(workers),
            "--memory-limit", memory, "-q"]  # fmt: skip


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return round(time.perf_counter() - start, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--size", default="0.5M")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="4G")
    ap.add_argument("--kill-stage", default="verify")
    ap.add_argument("--kill-fraction", type=float, default=0.5)
    ap.add_argument("--corpora", type=Path, default=Path("/work/scale"))
    ap.add_argument("--work", type=Path, default=Path("/work/scale/kill"))
    args = ap.parse_args()
    folder = corpus(args.corpora, parse_size(args.size), args.size)
    inputs = sorted(str(p) for p in folder.glob("part-*.jsonl.zst"))
    shutil.rmtree(args.work, ignore_errors=True)
    clean_out, out, work = args.work / "clean", args.work / "out", args.work / "work"

    clean_s = timed(
        command(inputs, clean_out, args.work / "clean-work", args.workers, args.memory_limit)
    )
    expected = digest(clean_out)

    cmd = command(inputs, out, work, args.workers, args.memory_limit)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True)
    shards = None
    while proc.poll() is None:
        if shards is None and (work / "sketch").exists():
            shards = len(list((work / "read").glob("*/part-*.parquet")))
        done = len(list(work.glob(f"{args.kill_stage}/*/_SUCCESS")))
        if shards and done >= max(1, int(args.kill_fraction * shards)):
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    killed_after_s = round(time.perf_counter() - start, 1)
    if proc.returncode != -signal.SIGKILL:
        raise SystemExit(f"the run ended ({proc.returncode}) before it could be killed")
    markers = len(list(work.glob("*/*/_SUCCESS")))

    resume_s = timed(cmd)
    summary = json.loads((out / "summary.json").read_text())
    tasks = summary["execution"]["tasks"]
    result: dict[str, Any] = {
        "corpus": args.size,
        "workers": args.workers,
        "killed_in": args.kill_stage,
        "uninterrupted_s": clean_s,
        "killed_after_s": killed_after_s,
        "finished_tasks_at_kill": markers,
        "resumed_s": resume_s,
        "tasks_reused": sum(t["reused"] for t in tasks.values()),
        "tasks_run_on_resume": sum(t["run"] for t in tasks.values()),
        "identical_output": digest(out) == expected,
    }
    print(json.dumps(result))
    stamp = dt.date.today().isoformat()
    target = HERE.parents[1] / "benchmarks" / "results" / f"kill-resume-{stamp}"
    target.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    target.with_suffix(".md").write_text(
        f"# Kill and resume, {stamp}\n\n`python benchmarks/scale/kill_resume.py "
        f"{' '.join(sys.argv[1:])}`\n\n"
        f"{args.size} documents, {args.workers} workers: uninterrupted {clean_s} s. Killed with "
        f"SIGKILL (driver and workers) in stage {args.kill_stage} after {killed_after_s} s, with "
        f"{markers} tasks finished; the same command then took {resume_s} s, reused "
        f"{result['tasks_reused']} tasks, ran {result['tasks_run_on_resume']}, and its output "
        f"was {'identical' if result['identical_output'] else 'DIFFERENT'} to the uninterrupted "
        "run's (clusters.parquet rows and the kept corpus's bytes).\n"
    )
    shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    main()
