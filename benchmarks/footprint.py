"""Footprint benchmark: the sharded run's temporary disk and the index's size, before and after.

    .venv/bin/python benchmarks/footprint.py --docs 20000 --before df07e92 --after HEAD

Runs, for two versions of tinlap in the same run on the same machine (``--before`` and
``--after``: git revisions, each exported to a folder of its own, so editing the checkout
meanwhile changes nothing), alternating their order round by round, each command as a
measured child process (``measure_child.py``):

* ``tinlap dedup --engine in-memory -j 1``, ``--engine sharded -j 1 --keep-work`` and
  ``--engine sharded -j 2``: wall and CPU time, peak memory; the work folder's bytes
  (``execution.temporary_disk_bytes``, what ``--keep-work`` leaves) per document; and a digest
  of each output (clusters.parquet rows and the kept corpus), which must be one for all;
* ``tinlap index create`` + ``index add`` of the same documents (``-j 1``, and ``-j 2`` where
  the version has it): time per document against ``dedup`` per document, bytes on disk per
  document, and a digest of the add's report;
* ``Index.check`` of the next ``--queries`` documents one at a time (p50 and p99 latency).

Input: the first ``--docs`` articles of VNTC (``../shared/data/vntc.jsonl.zst``), the queries
the ones after them. Results go to benchmarks/results/footprint-DATE.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from measure_child import machine_info, run_measured  # noqa: E402

SOURCE = ROOT.parent / "shared" / "data" / "vntc.jsonl.zst"
TINLAP = [sys.executable, "-c", "import sys; from tinlap.apps.cli import main; sys.exit(main())"]
CHECK = """
import json, sys, time
import numpy as np
from tinlap.index.store import Index
texts = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")]
with Index(sys.argv[1]) as index:
    index.check(texts[:20])  # warm: connection, caches
    took, found = [], 0
    for text in texts:
        start = time.perf_counter()
        (verdict,) = index.check([text])
        took.append(time.perf_counter() - start)
        found += verdict.duplicate
print(json.dumps({"p50_ms": float(np.percentile(took, 50)) * 1e3,
                  "p99_ms": float(np.percentile(took, 99)) * 1e3,
                  "mean_ms": float(np.mean(took)) * 1e3, "duplicates": found}))
"""


def inputs(work: Path, docs: int, queries: int) -> tuple[Path, Path]:
    """The first ``docs`` VNTC articles and the ``queries`` after them, as JSONL."""
    corpus, asked = work / f"vntc-{docs}.jsonl", work / f"queries-{queries}.jsonl"
    if not corpus.exists() or not asked.exists():
        import zstandard

        with SOURCE.open("rb") as fh, corpus.open("wb") as out, asked.open("wb") as q:
            reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh))
            for n, line in enumerate(reader):
                if n >= docs + queries:
                    break
                (out if n < docs else q).write(line)
    return corpus, asked


def export(revision: str, work: Path) -> Path:
    """The ``src`` folder of ``revision``, for PYTHONPATH."""
    target = work / f"src-{revision}"
    if not target.exists():
        archive = subprocess.run(
            ["git", "archive", revision, "src"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target / "src"


def digest(out: Path) -> str:
    """clusters.parquet rows (order-free) and the kept corpus, hashed."""
    table = pq.read_table(out / "clusters.parquet")
    columns = [table.column(c).to_pylist() for c in table.column_names]
    rows = sorted(map(repr, zip(*columns, strict=True)))
    h = hashlib.sha256("\n".join(rows).encode())
    for path in sorted(out.rglob("kept*")):
        if path.is_file():
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def run_version(
    label: str, src: Path, corpus: Path, queries: Path, work: Path, docs: int
) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    logs = work / "logs" / label
    result: dict[str, Any] = {}

    def measured(name: str, args: list[str]) -> dict[str, Any]:
        m = run_measured([*TINLAP, *args], log_dir=logs, name=name, env=env)
        if m.returncode != 0:
            raise SystemExit(f"{label} {name} failed: see {m.stderr_path}")
        return {"wall_s": round(m.wall_s, 2), "cpu_s": round(m.cpu_s, 2), "peak_mb": m.peak_rss_mb}

    runs = {
        "in-memory -j 1": ["--engine", "in-memory", "-j", "1"],
        "sharded -j 1": ["--engine", "sharded", "-j", "1", "--keep-work"],
        "sharded -j 2": ["--engine", "sharded", "-j", "2"],
    }
    for name, extra in runs.items():
        out, root = work / label / name.replace(" ", ""), work / label / f"{name}-work"
        for path in (out, root):
            shutil.rmtree(path, ignore_errors=True)
        args = ["dedup", str(corpus), "-o", str(out), "-q", *extra]
        if "sharded" in name:
            args += ["--work", str(root)]
        entry = measured(name.replace(" ", ""), args)
        summary = json.loads((out / "summary.json").read_text())
        entry["digest"] = digest(out)
        if "--keep-work" in extra:
            entry["temp_disk_bytes"] = summary["execution"]["temporary_disk_bytes"]
            entry["temp_disk_per_doc"] = round(entry["temp_disk_bytes"] / docs)
            entry["stage_bytes"] = {
                p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
                for p in sorted(root.iterdir())
                if p.is_dir()
            }
        entry["seconds_per_stage"] = summary["seconds_per_stage"]
        result[name] = entry
        shutil.rmtree(root, ignore_errors=True)

    for workers in ("1", "2"):
        idx = work / label / f"index-j{workers}"
        shutil.rmtree(idx, ignore_errors=True)
        create = [*TINLAP, "index", "create", str(idx)]
        subprocess.run(create, env=env, check=True, capture_output=True)
        report = work / label / f"report-j{workers}.jsonl"
        args = ["index", "add", str(idx), str(corpus), "--report", str(report), "-q"]
        if workers != "1":
            help_text = subprocess.run(
                [*TINLAP, "index", "add", "--help"], env=env, capture_output=True, text=True
            ).stdout
            if "--workers" not in help_text:
                continue
            args += ["-j", workers]
        entry = measured(f"index-add-j{workers}", args)
        stats = json.loads(
            subprocess.run(
                [*TINLAP, "index", "stats", str(idx)], env=env, capture_output=True, text=True
            ).stdout
        )
        entry["bytes_on_disk"] = stats["bytes_on_disk"]
        entry["bytes_per_doc"] = round(stats["bytes_on_disk"] / docs)
        entry["report_digest"] = hashlib.sha256(report.read_bytes()).hexdigest()[:16]
        if workers == "1":
            check = subprocess.run(
                [sys.executable, "-c", CHECK, str(idx), str(queries)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            entry["check"] = json.loads(check.stdout)
        result[f"index add -j {workers}"] = entry
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--before", required=True, help="git revision to compare against")
    parser.add_argument("--after", default="HEAD", help="git revision to measure")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tinlap-footprint"))
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpus, queries = inputs(args.work, args.docs, args.queries)
    after = (
        subprocess.run(
            ["git", "rev-parse", "--short", args.after], cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    versions = {"before": export(args.before, args.work), "after": export(after, args.work)}
    machine = machine_info()
    rounds = []
    for number in range(args.rounds):
        order = list(versions) if number % 2 == 0 else list(reversed(versions))
        rounds.append(
            {
                label: run_version(label, versions[label], corpus, queries, args.work, args.docs)
                for label in order
            }
        )
        print(json.dumps(rounds[-1], indent=1), flush=True)
    date = dt.date.today().isoformat()
    payload = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine,
        "loadavg_at_end": list(os.getloadavg()),
        "before": args.before,
        "after": after,
        "docs": args.docs,
        "rounds": rounds,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"footprint-{date}.json").write_text(json.dumps(payload, indent=1))
    (args.results / f"footprint-{date}.md").write_text(markdown(payload))
    print(markdown(payload))


def markdown(payload: dict[str, Any]) -> str:
    """The headline table: medians would need more rounds; each round's figures are shown."""
    docs = payload["docs"]
    lines = [
        f"# Footprint, {dt.date.today().isoformat()}",
        "",
        f"`{payload['command']}`; {payload['machine']['cpu_model']}, "
        f"{payload['machine']['cores']} cores, load average at start "
        f"{payload['machine']['loadavg_at_start'][0]:.1f}, at end "
        f"{payload['loadavg_at_end'][0]:.1f}. {docs:,} VNTC articles; before = "
        f"`{payload['before']}`, after = `{payload['after']}`.",
        "",
        "| round | version | sharded -j 1 temp disk B/doc | sharded -j 1 wall s | "
        "in-memory -j 1 wall s | sharded -j 2 wall s | index B/doc | index add -j 1 s "
        "(ms/doc) | index add -j 2 s | check p50 / p99 ms | digests |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for number, round_ in enumerate(payload["rounds"], 1):
        for label, r in round_.items():
            add1, add2 = r["index add -j 1"], r.get("index add -j 2")
            digests = {r[k]["digest"] for k in ("in-memory -j 1", "sharded -j 1", "sharded -j 2")}
            lines.append(
                f"| {number} | {label} | {r['sharded -j 1']['temp_disk_per_doc']:,} | "
                f"{r['sharded -j 1']['wall_s']} | {r['in-memory -j 1']['wall_s']} | "
                f"{r['sharded -j 2']['wall_s']} | {add1['bytes_per_doc']:,} | "
                f"{add1['wall_s']} ({add1['wall_s'] / docs * 1e3:.2f}) | "
                f"{add2['wall_s'] if add2 else '-'} | "
                f"{add1['check']['p50_ms']:.2f} / {add1['check']['p99_ms']:.2f} | "
                f"dedup {'/'.join(sorted(digests))}, report {add1['report_digest']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
