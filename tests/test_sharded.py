"""The sharded pipeline: same result as the in-memory run on any executor, resumable, safe.

A real VNTC sample (with its exact copies and generated trimmed reposts) is split over three
files and run with a tiny memory budget, so that it becomes many shards and partitions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from helpers import vntc_exact_sample, write_jsonl

from tinlap.config import DedupConfig
from tinlap.engines.executors.local import LocalExecutor
from tinlap.engines.inmemory import run_dedup
from tinlap.engines.sharded import RunError, ShardedOptions, run_sharded
from tinlap.engines.stages.ingest import BadShard
from tinlap.io.storage import Storage
from tinlap.records import ProblemLog

TINY = 400 * 2**20  # per worker: 16 MiB for data, ~600 documents a shard, many partitions


@pytest.fixture(scope="module")
def corpus(vntc_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """~2,600 real documents in three files: VNTC's own exact copies plus trimmed reposts
    (last paragraph dropped: contained copies) and a repeated id across files."""
    rows = [dict(r) for r in vntc_exact_sample(vntc_path, 2400, 120)]
    reposts = []
    for row in rows[:400:4]:
        paragraphs = row["text"].split("\n")
        if len(paragraphs) > 3:
            reposts.append({"id": f"repost-{row['id']}", "text": "\n".join(paragraphs[:-1])})
    for row in rows[400:800:8]:  # a short excerpt: found by the containment pass (1-row bands)
        paragraphs = row["text"].split("\n")
        if len(paragraphs) > 6:
            excerpt = "\n".join(paragraphs[: len(paragraphs) // 3])
            reposts.append({"id": f"excerpt-{row['id']}", "text": excerpt})
    rows = rows + reposts
    rows[-1] = {**rows[-1], "id": rows[0]["id"]}  # a repeated id: renamed id#2
    folder = tmp_path_factory.mktemp("corpus")
    third = len(rows) // 3
    return [
        write_jsonl(
            folder / f"part-{i}.jsonl", rows[i * third : (i + 1) * third if i < 2 else None]
        )
        for i in range(3)
    ]


@pytest.fixture(scope="module")
def reference(corpus: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The in-memory run: what every sharded run must reproduce."""
    out = tmp_path_factory.mktemp("reference")
    run_dedup([str(p) for p in corpus], out, DedupConfig(workers=1), quiet=True)
    return out


def sharded(
    corpus: list[Path], out: Path, workers: int = 1, problems: ProblemLog | None = None, **kw: Any
) -> dict[str, Any]:
    options = ShardedOptions(memory_limit=TINY * workers, **kw)
    return run_sharded(
        [str(p) for p in corpus],
        out,
        DedupConfig(workers=workers),
        options,
        quiet=True,
        problems=problems,
    )


def assert_same_output(out: Path, reference: Path) -> None:
    assert pq.read_table(out / "clusters.parquet").equals(
        pq.read_table(reference / "clusters.parquet")
    )
    assert (out / "kept.jsonl").read_bytes() == (reference / "kept.jsonl").read_bytes()
    mine, theirs = (orjson.loads((o / "summary.json").read_bytes()) for o in (out, reference))
    for key in ("documents_read", "documents_kept", "removed_by_reason", "clusters", "matching"):
        assert mine[key] == theirs[key], key


def test_one_worker_matches_the_in_memory_run(
    corpus: list[Path], reference: Path, tmp_path: Path
) -> None:
    summary = sharded(corpus, tmp_path / "out")
    assert summary["execution"]["shards"] >= 4
    assert summary["execution"]["partitions"]["buckets"] >= 2
    assert summary["documents_removed"] > 100
    assert summary["removed_by_reason"]["contained"] > 0
    assert summary["input_problems"]["by_kind"] == {"warning:duplicate_id": 1}
    assert_same_output(tmp_path / "out", reference)
    assert not (tmp_path / "out" / ".tinlap-work").exists()  # removed after success


def test_two_workers_give_the_same_output(
    corpus: list[Path], reference: Path, tmp_path: Path
) -> None:
    summary = sharded(corpus, tmp_path / "out", workers=2)
    assert summary["execution"]["workers"] == 2
    assert_same_output(tmp_path / "out", reference)


def test_ray_local_mode_gives_the_same_output(
    corpus: list[Path], reference: Path, tmp_path: Path
) -> None:
    ray = pytest.importorskip("ray")
    try:
        summary = sharded(corpus, tmp_path / "out", workers=2, executor="ray")
    finally:
        ray.shutdown()
    assert summary["execution"]["executor"] == "RayExecutor"
    assert_same_output(tmp_path / "out", reference)


def test_finished_tasks_are_reused_and_not_run_again(
    corpus: list[Path], reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = str(tmp_path / "work")
    first = sharded(corpus, tmp_path / "a", work=work, keep_work=True)
    assert all(t["reused"] == 0 for t in first["execution"]["tasks"].values())

    from tinlap.engines.stages import runner

    def refuse(*args: Any) -> dict[str, Any]:
        raise AssertionError("a finished task ran again")

    monkeypatch.setattr(runner, "STAGES", {k: (refuse, n) for k, (_, n) in runner.STAGES.items()})
    second = sharded(corpus, tmp_path / "b", work=work)
    assert all(t["run"] == 0 for t in second["execution"]["tasks"].values())
    assert_same_output(tmp_path / "b", reference)


def test_a_corrupt_intermediate_is_detected_and_redone(
    corpus: list[Path], reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    sharded(corpus, tmp_path / "a", work=str(work), keep_work=True)
    docs = work / "sketch" / "00001" / "docs.parquet"
    data = bytearray(docs.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # damage inside a data page
    docs.write_bytes(bytes(data))
    # Make the stages that read it run again.
    for stage in ("ship", "filter", "verify", "components", "decide"):
        storage = Storage(str(work))
        for name in storage.listdir(stage):
            storage.discard_task(stage, int(name))
    summary = run_sharded(
        [str(p) for p in corpus],
        tmp_path / "b",
        DedupConfig(workers=1),
        ShardedOptions(memory_limit=TINY, work=str(work)),
        quiet=False,
    )
    assert "is corrupt" in capsys.readouterr().err
    assert summary["execution"]["tasks"]["sketch"]["run"] >= 1
    assert_same_output(tmp_path / "b", reference)


def test_a_different_command_does_not_reuse_the_work(corpus: list[Path], tmp_path: Path) -> None:
    work = str(tmp_path / "work")
    with pytest.raises(RuntimeError, match="boom"):
        _fail_in_stage(corpus, tmp_path / "a", work, "verify")
    with pytest.raises(RunError, match=r"different run .*config"):
        run_sharded(
            [str(p) for p in corpus],
            tmp_path / "a",
            DedupConfig(workers=1, jaccard_threshold=0.7),
            ShardedOptions(memory_limit=TINY, work=work),
            quiet=True,
        )
    summary = run_sharded(
        [str(p) for p in corpus],
        tmp_path / "a",
        DedupConfig(workers=1, jaccard_threshold=0.7),
        ShardedOptions(memory_limit=TINY, work=work, restart=True),
        quiet=True,
    )
    assert all(t["reused"] == 0 for t in summary["execution"]["tasks"].values())


def _fail_in_stage(corpus: list[Path], out: Path, work: str, stage: str) -> None:
    from tinlap.engines.stages import runner

    fn, count = runner.STAGES[stage]

    def boom(task: int, ctx: Any, storage: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    runner.STAGES[stage] = (boom, count)
    try:
        sharded(corpus, out, work=work)
    finally:
        runner.STAGES[stage] = (fn, count)


def test_a_full_disk_names_the_stage_and_keeps_finished_work(
    corpus: list[Path], reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = str(tmp_path / "work")
    real_replace = os.replace

    def full_after_sketch(src: str, dst: str) -> None:
        if "/ship/" in str(dst):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_after_sketch)
    with pytest.raises(RunError, match=r"stage ship: cannot write .*No space left.*resume"):
        sharded(corpus, tmp_path / "out", work=work)
    monkeypatch.undo()
    summary = sharded(corpus, tmp_path / "out", work=work)
    assert summary["execution"]["tasks"]["sketch"]["run"] == 0
    assert summary["execution"]["tasks"]["ship"]["run"] > 0
    assert_same_output(tmp_path / "out", reference)


def test_a_run_stopped_while_joining_its_kept_file_publishes_none_and_resumes(
    corpus: list[Path], reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts joined before the stop were freed with their tasks (the rerun writes them
    again); a half-joined kept file is never published."""
    work = str(tmp_path / "work")
    real_replace = os.replace

    def full_at_the_third_part(src: str, dst: str) -> None:
        if "/write/00002/" in str(dst):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_at_the_third_part)
    with pytest.raises(OSError, match="No space left"):
        sharded(corpus, tmp_path / "out", work=work)
    monkeypatch.undo()
    assert not (tmp_path / "out").exists()
    assert Storage(work).finished("write", 0) is None and Storage(work).finished("write", 1) is None
    summary = sharded(corpus, tmp_path / "out", work=work)
    assert summary["execution"]["tasks"]["write"]["reused"] == 0
    assert summary["execution"]["tasks"]["verify"]["run"] == 0
    assert_same_output(tmp_path / "out", reference)


def test_a_bad_shard_stops_the_run_or_is_skipped_and_listed(
    corpus: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinlap.engines.stages import ingest

    real_read = ingest.read_source

    def broken_second_file(source: Any, *args: Any, **kw: Any) -> Any:
        if source.path.name == "part-1.jsonl":
            raise OSError(5, "Input/output error")
        return real_read(source, *args, **kw)

    monkeypatch.setattr(ingest, "read_source", broken_second_file)
    work = str(tmp_path / "work")
    with pytest.raises(BadShard, match=r"part-1\.jsonl: cannot be read.*--skip-bad-shards"):
        sharded(corpus, tmp_path / "out", work=work)
    problems = ProblemLog()
    summary = sharded(corpus, tmp_path / "out", work=work, skip_bad_shards=True, problems=problems)
    assert summary["execution"]["bad_shards"] == [str(corpus[1])]
    assert summary["input_problems"]["by_kind"]["error:bad_shard"] == 1
    assert summary["execution"]["tasks"]["read"] == {"run": 2, "reused": 1}  # 2 never began
    rows = [
        orjson.loads(line) for line in (tmp_path / "out" / "kept.jsonl").read_bytes().splitlines()
    ]
    second = {r["id"] for r in map(orjson.loads, corpus[1].read_bytes().splitlines())}
    assert second.isdisjoint(r["id"] for r in rows)


# ------------------------------------------------------------------------ S3 through moto


def test_s3_storage_through_a_local_moto_server(
    corpus: list[Path], reference: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    summary = sharded(corpus, tmp_path / "out", work="s3://tinlap-test/run", keep_work=True)
    assert summary["execution"]["storage"] == "s3://tinlap-test/run"
    assert summary["execution"]["temporary_disk_bytes"] > 0
    assert_same_output(tmp_path / "out", reference)
    storage = Storage("s3://tinlap-test/run")
    assert storage.finished("verify", 0) is not None
    assert not (tmp_path / "out" / ".tinlap-work").exists()  # nothing went to local disk


# ---------------------------------------------------------------------- killed and resumed

CLI = [sys.executable, "-m", "tinlap", "dedup"]


def start_until(args: list[str], marker: Path) -> subprocess.Popen[str]:
    """Start ``tinlap dedup ARGS`` and return once ``marker`` exists (the run still going)."""
    proc = subprocess.Popen([*CLI, *args], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    return proc


def rerun(args: list[str], out: Path) -> dict[str, Any]:
    """Run ``tinlap dedup ARGS`` to the end; its summary."""
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = orjson.loads((out / "summary.json").read_bytes())
    return summary


def test_killed_with_sigkill_mid_stage_and_rerun_gives_the_same_output(
    corpus: list[Path], reference: Path, tmp_path: Path
) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    args = [str(p) for p in corpus] + ["-o", str(out), "--work", str(work), "-q", "-j", "1"]
    args += ["--memory-limit", str(TINY)]
    proc = start_until(args, work / "sketch" / "00001" / "_SUCCESS")
    os.kill(proc.pid, signal.SIGKILL)  # mid-stage: sketch has started, not finished
    proc.communicate()
    finished_before = len(list(work.glob("*/*/_SUCCESS")))
    assert not (out / "clusters.parquet").exists()

    summary = rerun([*args, "--keep-work"], out)
    reused = sum(t["reused"] for t in summary["execution"]["tasks"].values())
    assert reused == finished_before >= 3
    assert_same_output(out, reference)


def test_a_lost_worker_stops_the_run_naming_the_stage_and_the_rerun_resumes(
    corpus: list[Path], reference: Path, tmp_path: Path
) -> None:
    psutil = pytest.importorskip("psutil")
    out, work = tmp_path / "out", tmp_path / "work"
    args = [str(p) for p in corpus] + ["-o", str(out), "--work", str(work), "-j", "2"]
    args += ["--memory-limit", str(2 * TINY), "--keep-work"]
    proc = start_until([*args, "-q"], work / "sketch" / "00000" / "_SUCCESS")
    workers = [
        p
        for p in psutil.Process(proc.pid).children(recursive=True)
        if "forkserver" in " ".join(p.parent().cmdline())
    ]
    assert workers, "no worker process to kill"
    workers[0].kill()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in stderr
    assert "a worker process died" in stderr and "run the same command again" in stderr
    summary = rerun([*args, "-q"], out)
    assert summary["execution"]["tasks"]["read"]["reused"] == 3
    assert_same_output(out, reference)


def test_components_as_star_rounds_of_tasks_give_the_same_output(
    corpus: list[Path], reference: Path, tmp_path: Path
) -> None:
    summary = sharded(corpus, tmp_path / "out", components="star")
    tasks = summary["execution"]["tasks"]
    assert "components" not in tasks and tasks["seed"]["run"] == summary["execution"]["shards"]
    rounds = [name for name in tasks if name.startswith("large-")]
    assert len(rounds) >= 2  # the last round only confirms that nothing changed
    assert tasks["relabel"]["run"] >= 4
    assert_same_output(tmp_path / "out", reference)


def test_bands_split_in_key_slices_give_the_same_output(
    corpus: list[Path], reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A band too large for one task is split by key (``RunContext.task_bands``); at this size
    that only happens when forced: 3 slices of one band per bucket task."""
    from tinlap.engines import sharded as engine

    def three_slices(documents: int, width: int, task_memory: int) -> tuple[int, int, int]:
        return width * 3, 1, 3

    monkeypatch.setattr(engine, "band_layout", three_slices)
    summary = sharded(corpus, tmp_path / "out")
    config = DedupConfig()
    assert summary["execution"]["partitions"]["buckets"] == 3 * (
        config.bands + config.containment_bands
    )
    assert_same_output(tmp_path / "out", reference)


def test_the_work_folder_holds_no_shingle_sets_and_few_bytes_per_document(
    corpus: list[Path], tmp_path: Path
) -> None:
    """Signatures, compressed texts and pairs only: shingle sets are rebuilt where verified."""
    summary = sharded(corpus, tmp_path / "out", work=str(tmp_path / "work"), keep_work=True)
    docs = pq.ParquetFile(tmp_path / "work" / "sketch" / "00000" / "docs.parquet").schema_arrow
    assert "shingles" not in docs.names and docs.field("s127").type == "uint32"
    assert not list((tmp_path / "work" / "sketch").glob("*/bands-*"))
    # the parts of the kept corpus, which a run frees as it joins them, stay with --keep-work
    parts = sum(p.stat().st_size for p in (tmp_path / "work" / "write").rglob("kept.*"))
    assert parts > 0
    assert summary["execution"]["temporary_disk_bytes"] - parts < 3000 * summary["documents_read"]


def test_executor_options_that_cannot_work_are_clear_errors(tmp_path: Path) -> None:
    sample = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "một hai ba bốn năm sáu"}])
    done = subprocess.run(
        [*CLI, str(sample), "-o", str(tmp_path / "out"), "--ray-address", "auto"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--ray-address needs --executor ray" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [*CLI, str(sample), "-o", str(tmp_path / "out"), "--memory-limit", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "not a size such as 4G" in done.stderr
    done = subprocess.run(
        [*CLI, str(sample), "-o", str(tmp_path / "out"), "--memory-limit", "100M", "-j", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "too small for 2 workers" in done.stderr


def _environment_variable(name: str) -> str | None:
    return os.environ.get(name)


def test_workers_see_the_environment_the_driver_has_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forkserver's children inherit the environment of its start; credentials set after a
    first pool (a notebook's second run on s3://) must still reach the workers."""
    executor = LocalExecutor(2)
    assert list(executor.map(_environment_variable, ["TINLAP_TEST_SET_LATER"])) == [None]
    monkeypatch.setenv("TINLAP_TEST_SET_LATER", "key")
    assert list(executor.map(_environment_variable, ["TINLAP_TEST_SET_LATER"] * 2)) == ["key"] * 2
