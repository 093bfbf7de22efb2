"""tinlap on the real labelled dev sets (vlsp-dev, baomoi-dev), and the oracle's agreement.

    .venv/bin/python benchmarks/accuracy/dev.py                 # tinlap vs the shipped labels
    .venv/bin/python benchmarks/accuracy/dev.py --agreement     # the oracle vs the labels
    .venv/bin/python benchmarks/accuracy/run.py --dev           # both, plus VNTC + synthetic

The shipped labels.jsonl are the reference for tinlap's scores here (a pair not listed is
not a copy); the oracle's agreement with them says how far the oracle used for VNTC and the
synthetic reposts can be trusted. See README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import re
import shlex
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard
from oracle import LABELS, Oracle

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"
DEV_SETS = ("vlsp-dev", "baomoi-dev")
RX = re.compile(r"^bm(rx)?-(\d+)$")


@dataclass(slots=True)
class DevSet:
    """One labelled dev set: its documents file and its labels by unordered pair."""

    name: str
    docs_path: Path
    labels: dict[tuple[str, str], tuple[str, float]]

    @classmethod
    def load(cls, name: str, data: Path = DATA) -> DevSet:
        labels = {}
        with (data / name / "labels.jsonl").open() as f:
            for line in f:
                r = json.loads(line)
                labels[pair_key(r["a"], r["b"])] = (r["label"], r["score"])
        return cls(name, data / name / "docs.jsonl.zst", labels)

    def texts(self) -> list[tuple[str, str]]:
        with self.docs_path.open("rb") as raw:
            reader = zstandard.ZstdDecompressor().stream_reader(raw)
            recs = map(orjson.loads, io.TextIOWrapper(reader, encoding="utf-8"))
            return [(str(r["id"]), r["text"]) for r in recs]

    def label(self, a: str, b: str) -> str:
        return self.labels.get(pair_key(a, b), ("not-copy", 0.0))[0]


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def kind_of(a: str, b: str) -> str:
    """baomoi: 're-extraction' (bm-N vs bmrx-N, one page read twice) or 'multi-outlet'."""
    ma, mb = RX.match(a), RX.match(b)
    if ma and mb and ma.group(2) == mb.group(2):
        return "re-extraction"
    return "multi-outlet"


# ---------------------------------------------------------------- oracle agreement


def oracle_labels(ds: DevSet, work: Path) -> tuple[dict[tuple[str, str], tuple[str, float]], float]:
    """The oracle's labels on a dev set (stored pairs), cached by the oracle's source."""
    src = "".join((HERE / f).read_text() for f in ("oracle.py", "textnorm.py"))
    tag = hashlib.sha256(src.encode()).hexdigest()[:12]  # a new rule relabels
    path = work / f"oracle-{ds.name}-{tag}.parquet"
    if path.exists():
        rows = pq.read_table(path).to_pylist()
        meta = json.loads(path.with_suffix(".json").read_text())
        return {pair_key(r["a"], r["b"]): (r["label"], r["coverage"]) for r in rows}, meta["s"]
    t0 = time.perf_counter()
    oracle = Oracle.from_texts(ds.texts())
    pairs = oracle.label_pairs()
    seconds = round(time.perf_counter() - t0, 1)
    rows = [
        {
            "a": oracle.docs[p.a].id,
            "b": oracle.docs[p.b].id,
            "label": p.label,
            "coverage": p.coverage,
        }
        for p in pairs
    ]
    work.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows) if rows else pa.table({}), path)
    path.with_suffix(".json").write_text(json.dumps({"s": seconds}))
    return {pair_key(r["a"], r["b"]): (r["label"], r["coverage"]) for r in rows}, seconds


def agreement(ds: DevSet, work: Path) -> dict[str, Any]:
    """Confusion matrix labels (rows) x oracle (columns); unlisted pairs are not-copy."""
    mine, seconds = oracle_labels(ds, work)
    matrix: Counter[tuple[str, str]] = Counter()
    for k in set(mine) | set(ds.labels):
        ref = ds.labels.get(k, ("not-copy", 0.0))[0]
        got = mine.get(k, ("not-copy", 0.0))[0]
        matrix[(ref, got)] += 1
    n = sum(matrix.values())
    agree = sum(matrix[(lab, lab)] for lab in LABELS)
    copy_ref = sum(matrix[("copy", g)] for g in LABELS)
    copy_got = sum(matrix[(r, "copy")] for r in LABELS)
    return {
        "set": ds.name,
        "oracle_seconds": seconds,
        "matrix": {f"{r}|{g}": matrix[(r, g)] for r in LABELS for g in LABELS},
        "pairs": n,
        "agreement": agree / n if n else None,
        "copy_recall": matrix[("copy", "copy")] / copy_ref if copy_ref else None,
        "copy_precision": matrix[("copy", "copy")] / copy_got if copy_got else None,
    }


def render_agreement(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "## Oracle agreement with the dev labels",
        "",
        "Rows: the shipped labels (pairs not listed are not-copy); columns: the oracle. "
        "'pairs' counts the union of the labelled pairs and the oracle's stored pairs.",
        "",
    ]
    for r in rows:
        m = r["matrix"]
        out += [
            f"**{r['set']}** (oracle {r['oracle_seconds']} s): agreement {pct(r['agreement'])} "
            f"of {r['pairs']} pairs; copy: {pct(r['copy_recall'])} of the labelled copies "
            f"labelled copy, {pct(r['copy_precision'])} of the oracle's copies labelled copy.",
            "",
            "| labels \\ oracle | copy | ambiguous | not-copy |",
            "|---|---:|---:|---:|",
        ]
        for ref in LABELS:
            out.append(f"| {ref} | " + " | ".join(str(m[f"{ref}|{g}"]) for g in LABELS) + " |")
        out.append("")
    return out


# ---------------------------------------------------------------- tinlap vs the labels


def read_clusters(path: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    rows = pq.read_table(path).to_pylist()
    cluster_of = {r["id"]: r["cluster_id"] for r in rows}
    edges = [r for r in rows if not r["kept"] and r.get("duplicate_of") is not None]
    return cluster_of, edges


def score_dev(
    ds: DevSet, out: Path, explain: Callable[[str, str], dict[str, Any]] | None, max_explain: int
) -> dict[str, Any]:
    """Precision on tinlap's edges and recall on labelled copies, split by pair kind."""
    cluster_of, edges = read_clusters(out / "clusters.parquet")

    def same(a: str, b: str) -> bool:
        return cluster_of.get(a, a) == cluster_of.get(b, b)

    edge_labels: Counter[str] = Counter()
    by_reason: dict[str, Counter[str]] = {}
    false_edges = []
    for e in edges:
        lab = ds.label(e["id"], e["duplicate_of"])
        edge_labels[lab] += 1
        by_reason.setdefault(str(e.get("reason")), Counter())[lab] += 1
        if lab == "not-copy":
            false_edges.append({k: e.get(k) for k in ("id", "duplicate_of", "reason")})
    judged = edge_labels["copy"] + edge_labels["not-copy"]
    recall: dict[str, list[int]] = {}
    misses = []
    for (a, b), (lab, sc) in sorted(ds.labels.items()):
        if lab != "copy":
            continue
        hit = same(a, b)
        kinds = ["all"] + ([kind_of(a, b)] if ds.name.startswith("baomoi") else [])
        for k in kinds:
            recall.setdefault(k, [0, 0])
            recall[k][0] += 1
            recall[k][1] += int(hit)
        if not hit:
            misses.append({"a": a, "b": b, "score": sc, "kind": kinds[-1]})
    for m in misses[:max_explain] if explain else []:
        m.update(explain(m["a"], m["b"]))
    return {
        "edges": len(edges),
        "edge_labels": dict(edge_labels),
        "precision": edge_labels["copy"] / judged if judged else None,
        "by_reason": {r: dict(c) for r, c in sorted(by_reason.items())},
        "recall": {
            k: {"copies": v[0], "found": v[1], "recall": v[1] / v[0] if v[0] else None}
            for k, v in recall.items()
        },
        "misses": misses,
        "false_edges": false_edges[:50],
    }


def tinlap_explain(command: list[str], out: Path) -> Callable[[str, str], dict[str, Any]]:
    """tinlap's own scores for one pair (`tinlap explain A B --output-dir OUT --json`)."""

    def run(a: str, b: str) -> dict[str, Any]:
        cmd = [*command, "explain", a, b, "--output-dir", str(out), "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            return {"explain": f"failed (rc {proc.returncode})"}
        return {"explain": _explain_summary(data)}

    return run


def _explain_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The few numbers of `tinlap explain --json` (schema tinlap.explain/1) that say why a
    labelled copy was not merged: scores, decision, and the clusters it recorded."""
    sc, dec, rec = data.get("scores", {}), data.get("decision", {}), data.get("recorded", {})
    out: dict[str, Any] = {
        "jaccard": round(sc.get("jaccard", 0.0), 3),
        "containment": round(
            max(sc.get("containment_a_in_b", 0.0), sc.get("containment_b_in_a", 0.0)), 3
        ),
        "decision": dec.get("reason") or "apart",
    }
    why = str(dec.get("why", ""))
    out["cause"] = "below thresholds"
    if "sentence" in why.lower():
        out["why"] = why[:120]
        out["cause"] = "sentence check"
    # a document absent from clusters.parquet is its own cluster
    ca, cb = ((rec.get(k) or {}).get("cluster_id") or data[k]["id"] for k in ("a", "b"))
    if dec.get("reason"):
        out["cause"] = "split by cluster order" if ca != cb else "merged (in another run?)"
    return out


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def render_dev(rows: list[dict[str, Any]], max_misses: int = 15) -> list[str]:
    out = [
        "## tinlap on the real dev sets (scored against their labels.jsonl)",
        "",
        "Precision: share of the edges (id -> duplicate_of) labelled copy, edges on ambiguous "
        "pairs excluded (shown apart); unlisted pairs count as not-copy. Recall: share of the "
        "labelled copy pairs whose two documents end in one cluster. baomoi-dev splits recall "
        "into re-extractions (bm-N vs bmrx-N) and real multi-outlet copies (all other pairs).",
        "",
        "| set | edges | copy / ambiguous / not-copy | precision | recall (all) "
        "| recall re-extraction | recall multi-outlet | s |",
        "|---|---:|---|---:|---|---|---|---:|",
    ]
    for r in rows:
        s = r["score"]
        el, rec = s["edge_labels"], s["recall"]

        def cell(k: str, rec: dict[str, Any] = rec) -> str:
            v = rec.get(k)
            return f"{v['found']}/{v['copies']} ({pct(v['recall'])})" if v else "–"

        out.append(
            f"| {r['set']} | {s['edges']} | {el.get('copy', 0)} / {el.get('ambiguous', 0)} / "
            f"{el.get('not-copy', 0)} | {pct(s['precision'])} | {cell('all')} | "
            f"{cell('re-extraction')} | {cell('multi-outlet')} | {r['seconds']} |"
        )
    for r in rows:
        s = r["score"]
        out += ["", f"### {r['set']}: edges by reason (copy / ambiguous / not-copy)", ""]
        for reason, c in s["by_reason"].items():
            out.append(
                f"- {reason}: {c.get('copy', 0)} / {c.get('ambiguous', 0)} / {c.get('not-copy', 0)}"
            )
        misses = s["misses"]
        if misses:
            out += [
                "",
                f"Missed copies: {len(misses)} (first {min(max_misses, len(misses))}; "
                "tinlap's scores from `tinlap explain` when run with --explain)",
                "",
                "| a | b | label score | kind | tinlap explain |",
                "|---|---|---:|---|---|",
            ]
            causes = Counter(
                m["explain"].get("cause") for m in misses if isinstance(m.get("explain"), dict)
            )
            if causes:
                out[-4] += " Causes of the explained misses: " + ", ".join(
                    f"{k} {v}" for k, v in causes.most_common()
                )
            for m in misses[:max_misses]:
                ex = m.get("explain", "")
                ex = ", ".join(f"{k} {v}" for k, v in ex.items()) if isinstance(ex, dict) else ex
                out.append(f"| {m['a']} | {m['b']} | {m['score']:.3f} | {m['kind']} | {ex} |")
    return out


def run_dev(
    tinlap: list[str], args: list[str], work: Path, explain: int, timeout: float = 3600.0
) -> list[dict[str, Any]]:
    """Run tinlap on every dev set and score it; returns one row per set."""
    rows = []
    for name in DEV_SETS:
        ds = DevSet.load(name)
        out = work / f"out-{name}"
        cmd = [*tinlap, "dedup", str(ds.docs_path), "--output", str(out), *args]
        print(f"[{name}] {shlex.join(cmd)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        seconds = round(time.perf_counter() - t0, 1)
        if proc.returncode != 0 or not (out / "clusters.parquet").exists():
            raise SystemExit(
                f"[{name}] tinlap failed (rc {proc.returncode}):\n{proc.stderr[-2000:]}"
            )
        ex = tinlap_explain(tinlap, out) if explain else None
        rows.append({"set": name, "seconds": seconds, "score": score_dev(ds, out, ex, explain)})
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--agreement", action="store_true", help="the oracle vs the labels only")
    p.add_argument("--tinlap-cmd", default=str(REPO / ".venv" / "bin" / "tinlap"))
    p.add_argument("--tinlap-args", default="", help='extra CLI args, e.g. "--containment 0.5"')
    p.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="K",
        help="run `tinlap explain` on the first K missed copies of each set",
    )
    p.add_argument("--work", type=Path, default=REPO / "benchmarks" / ".work" / "accuracy" / "dev")
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="markdown report (default benchmarks/results/accuracy-dev-<date>.md)",
    )
    p.add_argument("--json", type=Path, default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    date = dt.date.today().isoformat()
    lines = [
        f"# Accuracy on the real dev sets ({date})",
        "",
        f"- harness: `{shlex.join(['benchmarks/accuracy/dev.py', *(argv or sys.argv[1:])])}`",
    ]
    report: dict[str, Any] = {"date": date}
    if args.agreement:
        report["agreement"] = [agreement(DevSet.load(n), args.work) for n in DEV_SETS]
        lines += ["", *render_agreement(report["agreement"])]
    else:
        tinlap = shlex.split(args.tinlap_cmd)
        shown = [*tinlap, "dedup", "INPUT", "--output", "OUT", *shlex.split(args.tinlap_args)]
        lines.append(f"- tinlap: `{shlex.join(shown)}`")
        report["dev"] = run_dev(tinlap, shlex.split(args.tinlap_args), args.work, args.explain)
        lines += ["", *render_dev(report["dev"])]
    text = "\n".join(lines) + "\n"
    print(text)
    suffix = "agreement" if args.agreement else "dev"
    results = args.results or REPO / "benchmarks" / "results" / f"accuracy-{suffix}-{date}.md"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text)
    print(f"wrote {results}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
