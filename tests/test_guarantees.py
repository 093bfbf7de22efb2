"""What tinlap promises about the user's files and its own (README "Guarantees"), one test each:
the work folder is tinlap's own, the output is committed all at once, every document is
accounted for whatever its id, stage files hold no pickles, renames are fsynced, workers die
with their driver, and a run killed anywhere and run again gives the same output.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli import B_COPY, ROWS, A, B, C, D, tinlap_process

import tinlap.io.write
from tinlap.config import DedupConfig
from tinlap.engines.inmemory import run_dedup
from tinlap.engines.stages.ingest import decode_fields, encode_fields
from tinlap.io.storage import OWNER, NotOurs, Storage
from tinlap.io.write import MANIFEST, KeptWriter, escaped_name
from tinlap.records import Record

CODE = "import sys; from tinlap.apps.cli import main; sys.exit(main())"


def corpus(tmp_path: Path, rows: list[dict[str, Any]] = ROWS) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def dedup(*args: Any) -> subprocess.CompletedProcess[str]:
    return tinlap_process("dedup", "-j", "1", "-q", *args)


# ------------------------------------------------------------------ 1. the work folder is ours


def test_a_work_folder_tinlap_did_not_create_is_refused_and_left_alone(tmp_path: Path) -> None:
    """Issue 13 item 1: ``--work s`` (and ``--restart``) used to delete all of s."""
    user = tmp_path / "s" / "p" / "f.txt"
    user.parent.mkdir(parents=True)
    user.write_text("x")
    for extra in ([], ["--restart"]):
        proc = dedup(corpus(tmp_path), "-o", tmp_path / "out", "--work", tmp_path / "s", *extra)
        assert proc.returncode == 5, proc.stderr
        assert "not created by tinlap" in proc.stderr and "Traceback" not in proc.stderr
        assert user.read_text() == "x"
        assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["p"]


def test_tinlap_removes_only_what_it_created_in_its_work_folder(tmp_path: Path) -> None:
    made, empty = tmp_path / "made", tmp_path / "empty"
    empty.mkdir()
    for work in (made, empty):
        proc = dedup(corpus(tmp_path), "-o", tmp_path / "out", "--work", work, "--overwrite")
        assert proc.returncode == 0, proc.stderr
    assert not made.exists()  # tinlap made it: gone
    assert empty.is_dir() and not any(empty.iterdir())  # the user's: kept, emptied of ours
    # A resumable root with a file the user dropped in: only tinlap's entries go.
    proc = dedup(corpus(tmp_path), "-o", tmp_path / "out", "--work", made, "--keep-work")
    assert proc.returncode == 0 and (made / OWNER).exists()
    (made / "notes.txt").write_text("mine")
    proc = dedup(corpus(tmp_path), "-o", tmp_path / "out", "--work", made, "--restart")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in made.iterdir()) == ["notes.txt"]


def test_object_store_work_roots_follow_the_same_ownership() -> None:
    """The storage layer is the same for s3:// (fsspec): memory:// stands in for it here."""
    foreign = Storage("memory://bucket/foreign")
    foreign.fs.pipe_file("/bucket/foreign/data.bin", b"user data")
    with pytest.raises(NotOurs, match="not created by tinlap"):
        foreign.claim()
    assert foreign.read_bytes("data.bin") == b"user data"
    ours = Storage("memory://bucket/ours")
    ours.claim()
    ours.write_json("run.json", {})
    ours.write_bytes("read/00000/_SUCCESS", b"{}")
    ours.fs.pipe_file("/bucket/ours/other.txt", b"someone else's")
    ours.release(lambda name: name in ("run.json", "read"))
    assert ours.listdir("") == ["other.txt"]


def test_an_interrupted_in_memory_run_is_cleaned_up_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".tinlap-work-{dead.pid}-abcd1234"
    stale.mkdir(parents=True)
    (stale / OWNER).touch()
    (stale / "batch-0000000.pkl").write_bytes(b"x" * 100)
    lookalike = out / f".tinlap-work-{dead.pid}-user"  # no marker: not ours to delete
    lookalike.mkdir()
    proc = dedup(corpus(tmp_path), "-o", out, "--in-memory")
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and lookalike.is_dir()


# ---------------------------------------------------------------- 2. all-or-nothing output


def test_a_reused_output_folder_holds_exactly_the_new_runs_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert dedup(corpus(tmp_path), "-o", out).returncode == 0
    report = tinlap_process("report", out, "-q")
    assert report.returncode == 0, report.stderr
    assert (out / "report").is_dir()
    proc = dedup(corpus(tmp_path), "-o", out, "--output-format", "txt")
    assert proc.returncode == 0, proc.stderr
    manifest = orjson.loads((out / MANIFEST).read_bytes())["files"]
    assert manifest == ["clusters.parquet", "kept", "problems.jsonl", "summary.json"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*manifest, MANIFEST])


def test_a_failed_run_leaves_the_previous_output_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run_dedup([str(corpus(tmp_path))], out, DedupConfig(workers=1), quiet=True)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(self: Any, record: Record, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(KeptWriter, "write", broken)
    rows = [*ROWS, {"id": "e", "text": D}]
    with pytest.raises(OSError, match="No space"):
        run_dedup([str(corpus(tmp_path, rows))], out, DedupConfig(workers=1), quiet=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging left either


def test_files_tinlap_did_not_write_refuse_the_output_folder_unless_overwrite(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    (out / "kept.jsonl").write_text("an older tinlap's output\n")
    (out / ".kept.jsonl.123-0badc0de.tmp").write_text("an older tinlap's temporary file")
    proc = dedup(corpus(tmp_path), "-o", out)
    assert proc.returncode == 5 and "did not write" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".kept.jsonl.123-0badc0de.tmp",
        "kept.jsonl",
        "thesis.tex",
    ]
    proc = dedup(corpus(tmp_path), "-o", out, "--output-format", "parquet", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert (out / "thesis.tex").read_text() == "mine"  # never deleted, even with --overwrite
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            MANIFEST,
            "clusters.parquet",
            "kept.parquet",
            "problems.jsonl",
            "summary.json",
            "thesis.tex",
        ]
    )


# ----------------------------------------------------- 3. every document, whatever its id

_TEXTS = [A, B, B_COPY, C, D]
_ids = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=300
) | st.sampled_from(["", ".", "..", "a/../b", "/etc/passwd", "a//b", "con", "x/", "%2F", "a\0b"])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    ids=st.lists(_ids | st.just("x" * 400) | st.just("ok/inside"), min_size=1, max_size=8),
    texts=st.lists(st.sampled_from(_TEXTS), min_size=8, max_size=8),
    fmt=st.sampled_from(["txt", "jsonl"]),
)
def test_every_input_document_is_kept_or_in_clusters_whatever_its_id(
    tmp_path_factory: pytest.TempPathFactory, ids: list[str], texts: list[str], fmt: str
) -> None:
    tmp = tmp_path_factory.mktemp("ids")
    rows = [{"id": i, "text": t} for i, t in zip(ids, texts, strict=False)]
    if "ok/inside" in ids:
        rows.append({"id": "ok", "text": C})  # a file where another id needs a folder
    out = tmp / "out"
    summary = run_dedup(
        [str(corpus(tmp, rows))], out, DedupConfig(workers=1, output_format=fmt), quiet=True
    )
    clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    removed = [r["id"] for r in clusters if not r["kept"]]
    if fmt == "txt":
        names = {}
        if (out / "kept_names.parquet").exists():
            table = pq.read_table(out / "kept_names.parquet").to_pylist()
            names = {r["file"]: r["id"] for r in table}
        kept_dir = out / "kept"
        kept = [
            names.get(f"kept/{p.relative_to(kept_dir)}", str(p.relative_to(kept_dir)))
            for p in kept_dir.rglob("*")
            if p.is_file()
        ]
        for path in kept_dir.rglob("*"):
            assert path.resolve().is_relative_to(kept_dir.resolve())
    else:
        kept = [orjson.loads(line)["id"] for line in (out / "kept.jsonl").read_bytes().splitlines()]
    assert summary["documents_unwritable"] == 0
    assert len(kept) + len(removed) == summary["documents_read"] == len(rows)
    assert set(kept).isdisjoint(removed)
    assert {r["id"] for r in clusters if r["kept"]} <= set(kept)
    unique = {r["id"] for r in rows if r["id"] and ids.count(r["id"]) == 1}
    assert unique <= set(kept) | set(removed)


def test_escaped_names_are_safe_deterministic_and_distinct() -> None:
    for doc_id in ["../evil", "a/b", "x" * 5000, "a\0b", "%", ".hidden/x", "é" * 300]:
        name = escaped_name(doc_id)
        assert name == escaped_name(doc_id)
        assert "/" not in name and "\0" not in name and not name.startswith(".")
        assert len(name.encode()) <= 255
    assert escaped_name("a/b") != escaped_name("a%2Fb")


# ------------------------------------------------------------------ 4. no pickle in stages


class _Exploit:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch /tmp/tinlap-pwned-by-pickle",))


def test_stage_files_never_run_code_and_keep_field_types() -> None:
    import datetime
    import decimal

    with pytest.raises(ValueError, match="unknown encoding"):
        decode_fields(pickle.dumps(_Exploit()))
    assert not Path("/tmp/tinlap-pwned-by-pickle").exists()
    for fields in [
        {"n": 1, "f": 1.5, "s": "ă", "b": True, "none": None, "l": [1, "a"], "d": {"k": [1]}},
        {"big": 2**70, "nan": float("nan")},
        {"when": datetime.datetime(2024, 1, 2, 3, 4, 5), "raw": b"\x00\xff"},
        {"price": decimal.Decimal("1.25"), "day": datetime.date(2024, 1, 2)},
    ]:
        back = decode_fields(encode_fields(fields))
        assert list(back) == list(fields)
        assert all(type(back[k]) is type(v) for k, v in fields.items())
    stages = Path(tinlap.io.write.__file__).parents[1] / "engines" / "stages"
    sources = [stages / n for n in ("ingest.py", "learn.py")]
    assert not any("import pickle" in p.read_text() for p in sources)


# -------------------------------------------------------------------------------- 5. fsync


def test_every_rename_that_commits_output_follows_an_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    events: list[tuple[str, str]] = []
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append((os.path.realpath(src), os.path.realpath(dst)))
        real_replace(src, dst)

    def rename(src: Any, dst: Any) -> None:
        events.append((os.path.realpath(src), os.path.realpath(dst)))
        real_rename(src, dst)

    if not Path("/proc/self/fd").exists():
        pytest.skip("needs /proc to name fsynced files")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "rename", rename)
    out = tmp_path / "out"
    config = DedupConfig(workers=1, output_format="txt")
    run_dedup([str(corpus(tmp_path))], out, config, quiet=True)
    real = os.path.realpath(out)
    commits = [(s, d) for s, d in events if os.path.dirname(d) == real]
    assert {os.path.basename(d) for _, d in commits} >= {"clusters.parquet", "kept", MANIFEST}
    order = list(synced)
    for src, _ in commits:
        assert src in order, f"{src} renamed into {real} without an fsync"
    assert real in order  # the folder itself, so the renames are durable


# ------------------------------------------------------------------- 6. no orphan workers


def test_workers_exit_when_the_driver_is_killed(tmp_path: Path, vntc_path: Path) -> None:
    """Issue 13 item 8: the forkserver and workers lived on (240-385 MB each) after 95 s."""
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    args = [sys.executable, "-c", CODE, "dedup", str(vntc_path), "-o", str(out)]
    proc = subprocess.Popen([*args, "-j", "2", "-q"])
    try:
        deadline = time.monotonic() + 60
        children: list[Any] = []
        while time.monotonic() < deadline and proc.poll() is None:
            children = psutil.Process(proc.pid).children(recursive=True)
            workers = [c for c in children if c.ppid() != proc.pid]
            if workers:
                break
            time.sleep(0.1)
        assert proc.poll() is None and len(children) >= 3, "the run had no workers to orphan"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    _, alive = psutil.wait_procs(children, timeout=5)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:
        p.kill()
    assert not alive, f"{len(alive)} processes outlived their driver: {alive}"


# ------------------------------------------------------ 7. killed anywhere, rerun, same output

# Runs ``tinlap dedup`` in this process and SIGKILLs it at the Nth rename (before or after it)
# of any file: every stage's task outputs and markers, the output staging and the commit.
_KILLER = """
import os, signal, sys
n, when, count_to = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seen = [0]
def wrap(real):
    def call(*args, **kw):
        seen[0] += 1
        if seen[0] == n and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kw)
        if seen[0] == n and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return call
os.replace, os.rename = wrap(os.replace), wrap(os.rename)
from tinlap.apps.cli import main
try:
    main(sys.argv[4:])
finally:
    if count_to != "-":
        open(count_to, "w").write(str(seen[0]))
"""


def _digest(out: Path) -> str:
    rows = sorted(orjson.dumps(r) for r in pq.read_table(out / "clusters.parquet").to_pylist())
    kept = (out / "kept.jsonl").read_bytes()
    return hashlib.sha256(b"\n".join(rows) + b"\0" + kept).hexdigest()


def test_killed_at_random_points_and_rerun_gives_the_same_output(tmp_path: Path) -> None:
    rows = [
        {"id": f"{k}-{i}", "text": t + f" Bản tin số {i % 7}.", "n": i}
        for i in range(60)
        for k, t in enumerate([A, B, B_COPY, C, D])
        if (i + k) % 3
    ]
    source = corpus(tmp_path, rows)
    options = ["-j", "1", "-q", "--memory-limit", str(400 * 2**20), "--batch-size", "50"]

    def run(out: Path, n: int = 0, when: str = "-", count: str = "-") -> int:
        argv = [str(n), when, count, "dedup", str(source), "-o", str(out), *options]
        return subprocess.run([sys.executable, "-c", _KILLER, *argv], timeout=120).returncode

    reference, counted = tmp_path / "reference", tmp_path / "renames"
    assert run(reference, count=str(counted)) == 0
    total = int(counted.read_text())
    expected = _digest(reference)
    rng = random.Random(13)
    points = sorted(rng.sample(range(1, total + 1), 6))
    out = tmp_path / "out"
    for n in points:
        when = rng.choice(["before", "after"])
        # A rerun resumes, so it may finish before its Nth rename: then it is a whole run.
        assert run(out, n, when) in (0, -signal.SIGKILL)
        # Whatever a reader sees now is one whole run or nothing.
        if (out / MANIFEST).exists():
            files = orjson.loads((out / MANIFEST).read_bytes())["files"]
            assert all((out / f).exists() for f in files)
    assert run(out) == 0
    assert _digest(out) == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MANIFEST, "clusters.parquet", "kept.jsonl", "problems.jsonl", "summary.json"]
    )
