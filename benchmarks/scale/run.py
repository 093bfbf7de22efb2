"""Scale benchmark: tinlap's sharded run on amplified VNTC at growing sizes, in one run.

    .venv/bin/python benchmarks/scale/run.py --sizes 0.5M 1M 2M --workers 2 \
        --compare-at 1M --datatrove-docs 50000

For each size it builds (once, cached under --corpora) an amplified corpus with
``amplify.py`` and runs ``tinlap dedup`` on it as a measured child process (wall time, CPU
time of the whole process tree, peak memory of the tree: ``measure_child.py``). It also scores
the removals against the generator's truth (a copy is removed, a distinct document or an
original is kept), so a fast run that finds nothing cannot look good.

``--compare-at`` reruns one size with 1 worker, 2 workers and Ray local mode and checks the
three outputs are byte-identical. ``--datatrove-docs`` runs datatrove's MinHash pipeline and
tinlap (one core each) on the first files of that corpus, one after the other in this run.
Results go to benchmarks/results/scale-DATE.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from measure_child import machine_info, run_measured  # noqa: E402

PYTHON = sys.executable
TINLAP = [PYTHON, "-c", "import sys; from tinlap.apps.cli import main; sys.exit(main())", "dedup"]
SOURCE = ROOT.parent / "shared" / "data" / "vntc.jsonl.zst"


def parse_size(text: str) -> int:
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1].upper(), 1)
    return int(float(text[:-1] if text[-1].isalpha() else text) * scale)


def corpus(corpora: Path, docs: int, label: str) -> Path:
    """The amplified corpus of ``docs`` documents (generated on first use)."""
    folder = corpora / f"amp-{label}"
    if not (folder / "amplify.json").exists():
        subprocess.run(
            [
                PYTHON,
                str(HERE / "amplify.py"),
                "--docs",
                str(docs),
                "--out",
                str(folder),
                "--source",
                str(SOURCE),
            ],
            check=True,
        )
    return folder


def run_tinlap(
    inputs: list[str],
    out: Path,
    logs: Path,
    name: str,
    workers: int,
    memory: str,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        *TINLAP,
        *inputs,
        "-o",
        str(out),
        "-j",
        str(workers),
        "--memory-limit",
        memory,
        "--work",
        str(out.parent / f"{out.name}.work"),
        "--restart",
        "-q",
        *extra,
    ]
    measured = run_measured(cmd, log_dir=logs, name=name)
    if measured.returncode != 0:
        raise SystemExit(f"{name} failed: see {measured.stderr_path}")
    summary = json.loads((out / "summary.json").read_text())
    return {"measured": measured.to_dict(), "summary": summary}


def score(out: Path, truth_path: Path, docs: int | None = None) -> dict[str, float]:
    """Removals against the generator's truth (its first ``docs`` rows).

    A family is an original and its reposts: exactly one of them should stay, whichever the
    keep policy prefers. A removal is right when the document and the one it was removed for
    belong to the same family; recall is right removals over (family size - 1) summed.
    """
    truth = pq.read_table(truth_path, columns=["id", "family"])
    if docs is not None:
        truth = truth.slice(0, docs)
    family = dict(zip(truth["id"].to_pylist(), truth["family"].to_pylist(), strict=True))
    sizes: dict[int, int] = {}
    for f in family.values():
        if f >= 0:
            sizes[f] = sizes.get(f, 0) + 1
    expected = sum(n - 1 for n in sizes.values())
    clusters = pq.read_table(out / "clusters.parquet", columns=["id", "kept", "duplicate_of"])
    removed = [
        (i, d)
        for i, kept, d in zip(
            clusters["id"].to_pylist(),
            clusters["kept"].to_pylist(),
            clusters["duplicate_of"].to_pylist(),
            strict=True,
        )
        if not kept
    ]
    right = sum(1 for i, d in removed if family.get(i, -1) >= 0 and family[i] == family.get(d))
    return {
        "expected_removals": expected,
        "removed": len(removed),
        "precision": round(right / max(1, len(removed)), 4),
        "recall": round(right / max(1, expected), 4),
    }


def score_removed(removed: list[str], truth_path: Path, docs: int) -> dict[str, float]:
    """``score`` for a tool that names removed documents but not what they copy: a removal is
    right up to (family size - 1) removals per family (a lenient upper bound)."""
    truth = pq.read_table(truth_path, columns=["id", "family"]).slice(0, docs)
    family = dict(zip(truth["id"].to_pylist(), truth["family"].to_pylist(), strict=True))
    sizes = Counter(f for f in family.values() if f >= 0)
    per_family = Counter(family.get(i, -1) for i in removed)
    right = sum(min(n, sizes[f] - 1) for f, n in per_family.items() if f >= 0)
    expected = sum(n - 1 for n in sizes.values())
    return {
        "removed": len(removed),
        "precision": round(right / max(1, len(removed)), 4),
        "recall": round(right / max(1, expected), 4),
    }


def datatrove_removed(workdir: Path) -> list[str]:
    ids = []
    for path in sorted((workdir / "minhash" / "removed").glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as fh:
            ids += [json.loads(line)["id"] for line in fh if line.strip()]
    return ids


def digest(out: Path) -> str:
    """One hash of clusters.parquet's rows and the kept corpus's bytes."""
    h = hashlib.sha256()
    rows = pq.read_table(out / "clusters.parquet").to_pylist()
    h.update(json.dumps(rows, sort_keys=True).encode())
    for path in sorted(out.glob("kept*")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def row(label: str, docs: int, result: dict[str, Any], quality: dict[str, float]) -> dict[str, Any]:
    m, s = result["measured"], result["summary"]
    return {
        "label": label,
        "documents": docs,
        "wall_s": m["wall_s"],
        # Tasks' CPU (wherever they ran) plus the driver's: forkserver and Ray workers are not
        # children the measured process waits for, so the tree's rusage misses them.
        "cpu_s": s["execution"]["cpu_seconds"],
        "docs_per_s": round(docs / m["wall_s"]),
        "peak_memory_mb": m["peak_rss_mb"],
        "temporary_disk_mb": round(s["execution"]["temporary_disk_bytes"] / 2**20),
        "shards": s["execution"]["shards"],
        "partitions": s["execution"]["partitions"],
        "removed": s["documents_removed"],
        "stage_seconds": s["seconds_per_stage"],
        **quality,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sizes", nargs="*", default=["0.5M", "1M", "2M", "5M"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="4G")
    ap.add_argument("--corpora", type=Path, default=Path("/work/scale"))
    ap.add_argument("--work", type=Path, default=Path("/work/scale/runs"))
    ap.add_argument("--compare-at", default=None, help="size to rerun with 1, 2 workers and Ray")
    ap.add_argument("--datatrove-docs", type=int, default=0)
    ap.add_argument(
        "--append",
        action="store_true",
        help="add to today's results instead of replacing them; runs already there are reused",
    )
    args = ap.parse_args()
    logs = args.work / "logs"
    results: dict[str, Any] = {
        "machine": machine_info(),
        "memory_limit": args.memory_limit,
        "sizes": [],
        "executors": [],
        "datatrove": None,
    }
    target = ROOT / "benchmarks" / "results" / f"scale-{dt.date.today().isoformat()}"
    if args.append and target.with_suffix(".json").exists():
        results = json.loads(target.with_suffix(".json").read_text())

    def save() -> None:  # after every run, so a long benchmark stopped early keeps its figures
        target.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        target.with_suffix(".md").write_text(markdown(results, " ".join(sys.argv[1:])))

    for label in args.sizes:
        docs = parse_size(label)
        folder = corpus(args.corpora, docs, label)
        inputs = sorted(str(p) for p in folder.glob("part-*.jsonl.zst"))
        runs = [(f"{label}, {args.workers} workers", args.workers, ())]
        if label == args.compare_at:
            runs = [(f"{label}, 1 worker", 1, ()), *runs]
            runs.append(
                (f"{label}, Ray local, {args.workers} CPUs", args.workers, ("--executor", "ray"))
            )
        measured = {e["label"]: e for e in results["sizes"]} if args.append else {}
        for name, _, _ in list(runs):
            if name in measured:  # --append: this size's run is in today's results already
                runs.remove((name, args.workers, ()))
                if label == args.compare_at:
                    results["executors"].append(measured[name])
        for name, workers, extra in runs:
            out = args.work / f"tinlap-{label}-{workers}-{len(extra)}"
            result = run_tinlap(
                inputs, out, logs, name.replace(" ", "_"), workers, args.memory_limit, extra
            )
            entry = row(name, docs, result, score(out, folder / "truth.parquet"))
            entry["output_digest"] = digest(out)
            if label == args.compare_at:
                results["executors"].append(entry)
            if workers == args.workers and not extra:
                results["sizes"].append(entry)
            print(json.dumps(entry), flush=True)
            save()
            shutil.rmtree(out, ignore_errors=True)

    if args.datatrove_docs:
        results["datatrove"] = compare_datatrove(args, logs)
        print(json.dumps(results["datatrove"]), flush=True)
    save()
    print(f"wrote {target}.md", file=sys.stderr)


def compare_datatrove(args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """datatrove and tinlap, one core each, on the first files of the 1M corpus."""
    folder = corpus(args.corpora, parse_size("1M"), "1M")
    files = sorted(folder.glob("part-*.jsonl.zst"))
    per_file = json.loads((folder / "amplify.json").read_text())["files_of"]
    chosen = files[: max(1, args.datatrove_docs // per_file)]
    docs = len(chosen) * per_file
    slice_dir = args.work / "datatrove-input"
    shutil.rmtree(slice_dir, ignore_errors=True)
    slice_dir.mkdir(parents=True)
    for path in chosen:
        os.symlink(path, slice_dir / path.name)
    out = args.work / "tinlap-slice"
    tinlap = run_tinlap([str(slice_dir)], out, logs, "tinlap-slice", 1, args.memory_limit)
    tinlap_quality = score(out, folder / "truth.parquet", docs)
    python = ROOT / "benchmarks" / ".envs" / "datatrove" / "bin" / "python"
    cmd = [
        str(python),
        str(ROOT / "benchmarks" / "competitors" / "run_datatrove.py"),
        "--input",
        str(slice_dir / "part-*.jsonl.zst"),
        "--workdir",
        str(args.work / "dt"),
    ]
    measured = run_measured(cmd, log_dir=logs, name="datatrove")
    report = json.loads(Path(measured.stdout_path).read_text().strip().splitlines()[-1])
    return {
        "documents": docs,
        "tinlap": {
            "cpu_s": tinlap["measured"]["cpu_s"],
            "wall_s": tinlap["measured"]["wall_s"],
            "peak_memory_mb": tinlap["measured"]["peak_rss_mb"],
            "removed": tinlap["summary"]["documents_removed"],
            **tinlap_quality,
        },
        "datatrove": {
            "cpu_s": measured.cpu_s,
            "wall_s": measured.wall_s,
            "peak_memory_mb": measured.peak_rss_mb,
            **score_removed(datatrove_removed(args.work / "dt"), folder / "truth.parquet", docs),
            "report": report,
        },
        "cpu_ratio": round(measured.cpu_s / tinlap["measured"]["cpu_s"], 1),
    }


def markdown(results: dict[str, Any], argv: str) -> str:
    m = results["machine"]
    lines = [
        f"# Scale benchmark, {dt.date.today().isoformat()}",
        "",
        f"`python benchmarks/scale/run.py {argv}`; {m['cpu_model']}, {m['cores']} cores, "
        f"{m['mem_total_gb']} GB, Python {m['python']}; --memory-limit {results['memory_limit']}.",
        "",
        "| corpus | docs | wall s | CPU s | docs/s | peak MB | temp disk MB | shards | "
        "removed | precision | recall |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["sizes"] + [r for r in results["executors"] if r not in results["sizes"]]:
        lines.append(
            f"| {r['label']} | {r['documents']:,} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | "
            f"{r['docs_per_s']:,} | {r['peak_memory_mb']:.0f} | {r['temporary_disk_mb']:,} | "
            f"{r['shards']} | {r['removed']:,} | {r['precision']:.4f} | {r['recall']:.4f} |"
        )
    digests = {r["output_digest"] for r in results["executors"]}
    if digests:
        lines += ["", f"Outputs of the executor runs identical: {len(digests) == 1}"]
    if results["datatrove"]:
        d = results["datatrove"]
        lines += [
            "",
            f"datatrove vs tinlap on {d['documents']:,} documents, one core each: "
            f"CPU {d['datatrove']['cpu_s']:.0f} s vs {d['tinlap']['cpu_s']:.0f} s "
            f"({d['cpu_ratio']}x); precision / recall: tinlap {d['tinlap']['precision']} / "
            f"{d['tinlap']['recall']}, datatrove {d['datatrove']['precision']} / "
            f"{d['datatrove']['recall']} (at most: it does not say what a removal copies).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
