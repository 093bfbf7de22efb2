"""Accuracy harness: tinlap dedup against an independent sentence-alignment oracle.

    .venv/bin/python benchmarks/accuracy/run.py                      # 3 x 5,000 + synthetic
    .venv/bin/python benchmarks/accuracy/run.py --samples 1 --size 20000 --synthetic 0
    .venv/bin/python benchmarks/accuracy/run.py --tinlap-args "--containment 0.5"

Builds seeded samples of VNTC (natural) and of synthetic reposts mixed with distractors, labels
every pair with the oracle (cached under benchmarks/.work/accuracy/, so reruns with other
--tinlap-args only rerun tinlap), runs `tinlap dedup` on each sample and scores its
clusters.parquet. Prints a markdown report and writes it to
benchmarks/results/accuracy-<date>.md; --json writes the numbers. See README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import dev
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import score as sc
import synthetic
from corpus import DEFAULT_CORPUS, Article, fingerprint, natural_sample, read_corpus, write_jsonl
from oracle import AMBIGUOUS, COPY, REPORT_FLOOR, Oracle, verify_against_brute_force

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ORACLE_VERSION = "edit-tolerant-v2"
MEASURES = (
    "plain_jaccard",
    "plain_containment",
    "key_jaccard",
    "key_containment",
    "page_containment",
)
SWEEP_MEASURES = ("plain_containment", "key_containment", "page_containment")


@dataclass(slots=True)
class Tool:
    """A command with tinlap's CLI contract: CMD dedup INPUT --output OUT [ARGS]."""

    name: str
    command: list[str]
    args: list[str]


@dataclass
class Sample:
    name: str
    kind: str  # natural | synthetic
    seed: int
    docs: list[Article]
    synthetic: synthetic.SyntheticSample | None = None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--samples", type=int, default=3, help="natural samples (default 3)")
    p.add_argument("--size", type=int, default=5000, help="documents per natural sample")
    p.add_argument(
        "--synthetic",
        type=int,
        default=300,
        metavar="N",
        help="base articles of the synthetic sample, 1-3 variants each (0: none)",
    )
    p.add_argument(
        "--distractors",
        type=int,
        default=4000,
        help="random VNTC articles mixed into the synthetic sample",
    )
    p.add_argument("--seed", type=int, default=1, help="natural sample i uses seed + i")
    p.add_argument("--tinlap-args", default="", help='extra CLI args, e.g. "--containment 0.5"')
    p.add_argument(
        "--tinlap-cmd",
        default=str(REPO / ".venv" / "bin" / "tinlap"),
        help="the tinlap executable ('none': score only the baseline)",
    )
    p.add_argument(
        "--no-baseline", action="store_true", help="skip the exact-duplicates-only stand-in row"
    )
    p.add_argument(
        "--verify-oracle",
        type=int,
        default=0,
        metavar="K",
        help="check the indexed oracle against a brute-force double loop on K docs",
    )
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--work", type=Path, default=REPO / "benchmarks" / ".work" / "accuracy")
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="markdown report (default benchmarks/results/accuracy-<date>.md)",
    )
    p.add_argument("--json", type=Path, default=None, help="write all numbers as JSON here")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per tinlap run")
    p.add_argument(
        "--dev",
        action="store_true",
        help="also score tinlap on the real dev sets against their labels, and the oracle's "
        "agreement with those labels (../shared/data/{vlsp,baomoi}-dev)",
    )
    p.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="K",
        help="with --dev: `tinlap explain` on the first K missed copies of each dev set",
    )
    return p.parse_args(argv)


def build_samples(args: argparse.Namespace, corpus: list[Article]) -> list[Sample]:
    samples = []
    for i in range(args.samples):
        seed = args.seed + i
        docs = natural_sample(corpus, args.size, seed)
        samples.append(Sample(f"natural-s{seed}-n{len(docs)}", "natural", seed, docs))
    if args.synthetic > 0:
        syn = synthetic.build(corpus, args.synthetic, args.distractors, args.seed)
        name = f"synthetic-s{args.seed}-b{args.synthetic}-d{args.distractors}"
        samples.append(Sample(name, "synthetic", args.seed, syn.docs, syn))
    return samples


# ---------------------------------------------------------------- oracle (cached per sample)


def load_or_label(
    sample: Sample, docs: list[Article], folder: Path, measures: sc.Measures, verify: int
) -> tuple[list[sc.OraclePair], dict[str, Any]]:
    """The oracle's stored pairs for `docs` (the sample as the oracle reads it).

    Computed once, then read from oracle.parquet; measures added later are filled in.
    """
    path = folder / "oracle.parquet"
    info_path = folder / "oracle.json"
    if path.exists() and info_path.exists() and not verify:
        rows = pq.read_table(path).to_pylist()
        pairs = [
            sc.OraclePair(
                r["a"],
                r["b"],
                r["label"],
                r["coverage"],
                r["cov_ab"],
                r["cov_ba"],
                {m: r[m] for m in MEASURES if m in r},
            )
            for r in rows
        ]
        if rows and not all(m in rows[0] for m in MEASURES):
            sc.add_measures(pairs, measures)
            save_pairs(pairs, path)
        return pairs, json.loads(info_path.read_text())
    t0 = time.perf_counter()
    oracle = Oracle.from_texts((d.id, d.text) for d in docs)
    pairs = sc.oracle_pairs(oracle)
    info: dict[str, Any] = {
        "seconds": round(time.perf_counter() - t0, 1),
        "version": ORACLE_VERSION,
    }
    if verify:
        rng = np.random.default_rng(sample.seed)
        involved = sorted(
            {oracle.index_of[p.a] for p in pairs} | {oracle.index_of[p.b] for p in pairs}
        )
        chosen = set(involved[: verify // 2])
        rest = [i for i in rng.permutation(len(oracle.docs)) if i not in chosen]
        chosen.update(int(i) for i in rest[: max(0, verify - len(chosen))])
        t1 = time.perf_counter()
        problems = verify_against_brute_force(oracle, sorted(chosen))
        info["verified"] = {
            "docs": len(chosen),
            "mismatches": len(problems),
            "examples": problems[:5],
            "seconds": round(time.perf_counter() - t1, 1),
        }
    del oracle  # the full corpus' oracle holds ~10 GB; free it before measuring and tinlap
    sc.add_measures(pairs, measures)
    save_pairs(pairs, path)
    info_path.write_text(json.dumps(info, indent=1))
    return pairs, info


def save_pairs(pairs: list[sc.OraclePair], path: Path) -> None:
    """The oracle cache: one row per stored pair, with its measures."""
    rows = [
        {
            "a": p.a,
            "b": p.b,
            "label": p.label,
            "coverage": p.coverage,
            "cov_ab": p.cov_ab,
            "cov_ba": p.cov_ba,
            **p.measures,
        }
        for p in pairs
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)


# ---------------------------------------------------------------- tools


def run_tool(tool: Tool, input_path: Path, out: Path, timeout: float) -> dict[str, Any]:
    """Run one dedup command on a sample; returns timing, return code and stderr tail."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [*tool.command, "dedup", str(input_path), "--output", str(out), *tool.args]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        rc, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, err = -1, f"timeout after {timeout}s: {exc}"
    seconds = time.perf_counter() - t0
    ok = rc == 0 and (out / "clusters.parquet").exists()
    return {
        "command": shlex.join(cmd),
        "returncode": rc,
        "seconds": round(seconds, 1),
        "ok": ok,
        "stderr_tail": "" if ok else err[-2000:],
    }


def tools_from(args: argparse.Namespace) -> list[Tool]:
    tools = []
    if args.tinlap_cmd.lower() != "none":
        tools.append(Tool("tinlap", shlex.split(args.tinlap_cmd), shlex.split(args.tinlap_args)))
    if not args.no_baseline:
        tools.append(Tool("exact-only", [sys.executable, str(HERE / "standin.py")], []))
    return tools


# ---------------------------------------------------------------- synthetic breakdowns


def synthetic_breakdown(
    syn: synthetic.SyntheticSample, pairs: list[sc.OraclePair], clusters: sc.Clusters
) -> dict[str, Any]:
    """Recall per recipe/noise, oracle vs construction, hard negatives, kept-document choice."""
    by_pair = {sc.key(p.a, p.b): p for p in pairs}
    variant_of = {v.id: v for v in syn.variants}

    def label(a: str, b: str) -> str:
        p = by_pair.get(sc.key(a, b))
        return p.label if p else "not-copy"

    agreement = Counter(f"{v.intended}->{label(v.id, v.base_id)}" for v in syn.variants)
    recipe: dict[str, list[int]] = {}
    noise: dict[str, list[int]] = {}
    for v in syn.variants:
        if label(v.id, v.base_id) != "copy":
            continue
        hit = int(clusters.same(v.id, v.base_id))
        for k in (v.recipe, "all variant ~ base copies"):
            recipe.setdefault(k, [0, 0])
            recipe[k][0] += 1
            recipe[k][1] += hit
        for k in v.noises or ["none"]:
            noise.setdefault(k, [0, 0])
            noise[k][0] += 1
            noise[k][1] += hit
        k = "chrome" if v.chrome else "no chrome"
        noise.setdefault(k, [0, 0])
        noise[k][0] += 1
        noise[k][1] += hit
    partial_merged = [0, 0]
    for v in syn.variants:
        if label(v.id, v.base_id) == "ambiguous":
            partial_merged[0] += 1
            partial_merged[1] += int(clusters.same(v.id, v.base_id))

    family: dict[str, list[str]] = {b: [b] for b in syn.bases}
    for v in syn.variants:
        family[v.base_id].append(v.id)
    hard_labels = Counter(label(b, h) for b, h in syn.hard_negatives)
    hard_merged = sum(clusters.same(b, h) for b, h in syn.hard_negatives)
    hard_family = sum(any(clusters.same(m, h) for m in family[b]) for b, h in syn.hard_negatives)

    kept_complete = [0, 0]  # clusters of a family: kept doc holds the whole base body
    groups = clusters.members()
    for cid, kept in clusters.kept.items():
        members = groups.get(cid, [])
        if not any(m in family or m in variant_of for m in members):
            continue
        kept_complete[0] += 1
        complete = kept in family or (kept in variant_of and variant_of[kept].kept_share >= 0.999)
        kept_complete[1] += int(complete)

    return {
        "agreement": dict(agreement),
        "recall_by_recipe": recipe,
        "recall_by_noise": noise,
        "partial_variants_merged": partial_merged,
        "hard_negative_labels": dict(hard_labels),
        "hard_negatives": len(syn.hard_negatives),
        "hard_negatives_merged": hard_merged,
        "hard_negative_families_merged": hard_family,
        "kept_complete": kept_complete,
    }


# ---------------------------------------------------------------- report


def pct(x: float | None) -> str:
    return "–" if x is None or x != x else f"{100 * x:.1f}%"


def ratio(pair: list[int]) -> str:
    total, hit = pair
    return f"{hit}/{total} ({pct(hit / total if total else None)})"


def render(report: dict[str, Any]) -> str:
    out = [f"# tinlap accuracy against the edit-tolerant oracle ({report['date']})", ""]
    out += [
        f"- tinlap: `{report['tinlap_command']}` (revision {report['revision']})",
        f"- harness: `{report['harness_command']}`",
        f"- oracle: {ORACLE_VERSION}: copy if >= {COPY:.0%} of the shorter document's "
        "sentence text is reproduced (lightly edited sentences count), "
        f"ambiguous >= {AMBIGUOUS:.0%} "
        "(see benchmarks/accuracy/README.md)",
        "",
    ]
    out += [
        "## Oracle labels per sample",
        "",
        "| sample | docs | copy | ambiguous | not-copy (stored) | oracle s | verified |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in report["samples"]:
        lab, info = s["labels"], s["oracle"]
        ver = info.get("verified")
        vtxt = f"{ver['docs']} docs, {ver['mismatches']} mismatches" if ver else ""
        out.append(
            f"| {s['name']} | {s['docs']} | {lab['copy']} | {lab['ambiguous']} | "
            f"{lab['not-copy']} | {info['seconds']} | {vtxt} |"
        )
    out += [
        "",
        f"'not-copy (stored)': candidate pairs with a score >= {REPORT_FLOOR} "
        "but below the ambiguous threshold; every other pair is not-copy.",
        "",
    ]

    out += [
        "## Precision and recall",
        "",
        "Precision: share of the tool's edges (id -> duplicate_of) that the oracle labels "
        "copy. Recall: share of oracle copy pairs whose two documents share a cluster. "
        "'in-cluster' counts every pair inside the tool's clusters.",
        "",
        "| sample | tool | edges | copy / ambiguous / not-copy | precision | copies found "
        "| recall | F1 | ambiguous merged | in-cluster pairs c/a/n | s |",
        "|---|---|---:|---|---:|---|---:|---:|---:|---|---:|",
    ]
    for s in report["samples"]:
        for name, r in s["tools"].items():
            if not r["run"]["ok"]:
                out.append(
                    f"| {s['name']} | {name} | failed (rc {r['run']['returncode']}) "
                    "| | | | | | | | |"
                )
                continue
            m = r["score"]
            el, cp = m["edge_labels"], m["cluster_pairs"]
            out.append(
                f"| {s['name']} | {name} | {m['edges']} | {el.get('copy', 0)} / "
                f"{el.get('ambiguous', 0)} / {el.get('not-copy', 0)} | {pct(m['precision'])} | "
                f"{m['copies_found']}/{m['oracle_copies']} | {pct(m['recall'])} | "
                f"{pct(m['f1'])} | {m['partial_merged']}/{s['labels']['ambiguous']} | "
                f"{cp.get('copy', 0)}/{cp.get('ambiguous', 0)}/{cp.get('not-copy', 0)} | "
                f"{r['run']['seconds']} |"
            )
    out += [
        "",
        "### Edges by reason (copy / ambiguous / not-copy)",
        "",
        "| sample | tool | reason | edges | copy | ambiguous | not-copy | precision |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in report["samples"]:
        for name, r in s["tools"].items():
            if not r["run"]["ok"]:
                continue
            for reason, c in r["score"]["by_reason"].items():
                n = sum(c.values())
                out.append(
                    f"| {s['name']} | {name} | {reason} | {n} | {c.get('copy', 0)} | "
                    f"{c.get('ambiguous', 0)} | {c.get('not-copy', 0)} | "
                    f"{pct(c.get('copy', 0) / n if n else None)} |"
                )

    for kind in ("natural", "synthetic"):
        dist = report["distribution"].get(kind)
        if not dist:
            continue
        out += [
            "",
            f"## 5-gram similarity of the oracle's pairs ({kind} samples pooled)",
            "",
            "Plain: NFC + lowercase + whitespace split, as the RESEARCH.md calibration. "
            "Key: the oracle's full normalisation (zero-width, punctuation, tone placement). "
            "Containment is of the smaller 5-gram set in the other.",
            "",
            "| measure | label | pairs | >= 0.5 | >= 0.6 | >= 0.7 | >= 0.8 | >= 0.9 |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for measure in MEASURES:
            if kind == "natural" and measure == "page_containment":
                continue  # natural pages are what the oracle reads: same as plain_containment
            for lab in sc.LABELS:
                row = dist[measure][lab]
                cells = " | ".join(pct(row[f">={t}"]) for t in sc.THRESHOLDS)
                out.append(f"| {measure} | {lab} | {row['n']} | {cells} |")
        sweep = report["sweep"][kind]
        out += [
            "",
            f"Choosing a threshold ({kind}): a rule 'copy if containment >= t' on these pairs "
            "would merge this many copy / ambiguous / not-copy pairs.",
            "",
            "| t | " + " | ".join(f"{m} c/p/u (precision, recall)" for m in sweep) + " |",
            "|---:|" + "---|" * len(sweep),
        ]
        for i, t in enumerate(sc.SWEEP):
            cells = []
            for rows in sweep.values():
                r = rows[i]
                cells.append(
                    f"{r['copy']}/{r['ambiguous']}/{r['not-copy']} "
                    f"({pct(r['precision'])}, {pct(r['recall'])})"
                )
            out.append(f"| {t} | " + " | ".join(cells) + " |")

    for s in report["samples"]:
        for name, r in s["tools"].items():
            if name != "tinlap" or not r["run"]["ok"]:
                continue
            out += [
                "",
                f"### tinlap recall by plain 5-gram containment: {s['name']}",
                "",
                "| plain containment | copies | found | recall |",
                "|---|---:|---:|---:|",
            ]
            for rng_label, n, hit in r["recall_by_containment"]:
                out.append(f"| {rng_label} | {n} | {hit} | {pct(hit / n if n else None)} |")
            syn = r.get("synthetic")
            if syn:
                out += [
                    "",
                    f"### Synthetic reposts: {s['name']}",
                    "",
                    "Recall of variant ~ base copies by how the variant was made "
                    "(a variant can carry several noises):",
                    "",
                    "| recipe / noise | found / copies |",
                    "|---|---|",
                ]
                for k, v in sorted(syn["recall_by_recipe"].items()):
                    out.append(f"| {k if k.startswith('all') else 'recipe ' + k} | {ratio(v)} |")
                for k, v in sorted(syn["recall_by_noise"].items()):
                    out.append(f"| {k} | {ratio(v)} |")
                out += [
                    "",
                    f"- construction vs oracle (intended->oracle): {syn['agreement']}",
                    f"- ambiguous variants merged with their base: "
                    f"{ratio(syn['partial_variants_merged'])}",
                    f"- hard negatives (same topic and source): {syn['hard_negatives']}, "
                    f"oracle labels {syn['hard_negative_labels']}, merged with the base "
                    f"{syn['hard_negatives_merged']}, with the base or one of its variants "
                    f"{syn['hard_negative_families_merged']}",
                    "- clusters of a synthetic family whose kept document holds the whole "
                    f"base article (the base, or a wrap/extend variant): "
                    f"{ratio(syn['kept_complete'])}",
                ]
    return "\n".join(out) + "\n"


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "src"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{rev}{' + uncommitted src/ changes' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = tools_from(args)
    corpus = read_corpus(args.corpus)
    samples = build_samples(args, corpus)
    del corpus
    tag = hashlib.sha1(json.dumps([t.args for t in tools]).encode()).hexdigest()[:8]
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "revision": git_revision(),
        "harness_command": shlex.join(["benchmarks/accuracy/run.py", *(argv or sys.argv[1:])]),
        "tinlap_command": shlex.join(
            [
                *shlex.split(args.tinlap_cmd),
                "dedup",
                "INPUT",
                "--output",
                "OUT",
                *shlex.split(args.tinlap_args),
            ]
        ),
        "samples": [],
    }
    pooled: dict[str, list[sc.OraclePair]] = {"natural": [], "synthetic": []}
    for sample in samples:
        oracle_docs = sample.synthetic.oracle_docs() if sample.synthetic else sample.docs
        fp = fingerprint(sample.docs, ORACLE_VERSION)
        if sample.synthetic:
            fp = fingerprint(oracle_docs, fp)
        folder = args.work / f"{sample.name}-{fp}"
        folder.mkdir(parents=True, exist_ok=True)
        input_path = folder / "input.jsonl"
        if not input_path.exists():
            write_jsonl(sample.docs, input_path)
        if sample.synthetic:
            with (folder / "variants.jsonl").open("w") as f:
                for v in sample.synthetic.variants:
                    row = asdict(v)
                    row.pop("text")
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
        texts = {d.id: d.text for d in oracle_docs}
        measures = sc.Measures(texts, {d.id: d.text for d in sample.docs})
        print(f"[{sample.name}] oracle ...", file=sys.stderr, flush=True)
        pairs, info = load_or_label(sample, oracle_docs, folder, measures, args.verify_oracle)
        pooled[sample.kind] += pairs
        entry: dict[str, Any] = {
            "name": sample.name,
            "kind": sample.kind,
            "docs": len(sample.docs),
            "folder": str(folder),
            "labels": sc.label_counts(pairs),
            "oracle": info,
            "tools": {},
        }
        if sample.synthetic:
            entry["synthetic_meta"] = sample.synthetic.meta
        same_cluster: dict[str, list[bool]] = {}
        for tool in tools:
            print(f"[{sample.name}] {tool.name} ...", file=sys.stderr, flush=True)
            out = folder / f"out-{tool.name}-{tag}"
            run = run_tool(tool, input_path, out, args.timeout)
            result: dict[str, Any] = {"run": run}
            if run["ok"]:
                clusters = sc.Clusters.read(out / "clusters.parquet")
                result["score"] = sc.score(pairs, clusters, texts, measures)
                result["recall_by_containment"] = sc.recall_by_bucket(
                    pairs, clusters, "plain_containment", [0.5, 0.6, 0.7, 0.8, 0.9]
                )
                if sample.synthetic:
                    result["synthetic"] = synthetic_breakdown(sample.synthetic, pairs, clusters)
                same_cluster[tool.name] = [clusters.same(p.a, p.b) for p in pairs]
                write_edges(result["score"].pop("edge_rows"), out / "edges-labelled.parquet")
            else:
                print(f"[{sample.name}] {tool.name} failed:\n{run['stderr_tail']}", file=sys.stderr)
            entry["tools"][tool.name] = result
        write_pair_dump(pairs, same_cluster, folder / f"pairs-{tag}.parquet")
        report["samples"].append(entry)

    report["distribution"] = {
        kind: {m: sc.distribution(ps, m) for m in MEASURES} for kind, ps in pooled.items() if ps
    }
    report["sweep"] = {
        kind: {
            m: sc.threshold_sweep(ps, m)
            for m in SWEEP_MEASURES
            if kind == "synthetic" or m != "page_containment"
        }
        for kind, ps in pooled.items()
        if ps
    }
    text = render(report)
    if args.dev:
        dev_work = args.work / "dev"
        print("[dev sets] oracle agreement ...", file=sys.stderr, flush=True)
        report["agreement"] = [dev.agreement(dev.DevSet.load(n), dev_work) for n in dev.DEV_SETS]
        dev_lines = dev.render_agreement(report["agreement"])
        if tools and tools[0].name == "tinlap":
            report["dev"] = dev.run_dev(
                tools[0].command, tools[0].args, dev_work, args.explain, args.timeout
            )
            dev_lines = [*dev.render_dev(report["dev"]), "", *dev_lines]
        head, _, rest = text.partition("\n## ")
        text = head + "\n" + "\n".join(dev_lines) + "\n\n## " + rest
    print(text)
    results = args.results or REPO / "benchmarks" / "results" / f"accuracy-{report['date']}.md"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text)
    print(f"wrote {results}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


def write_edges(rows: list[dict[str, Any]], path: Path) -> None:
    """Every edge of the tool with the oracle's label and the pair's 5-gram measures."""
    if rows:
        pq.write_table(pa.Table.from_pylist(rows), path)


def write_pair_dump(pairs: list[sc.OraclePair], same: dict[str, list[bool]], path: Path) -> None:
    """The oracle's pairs with their measures and whether each tool put them in one cluster."""
    cols: dict[str, list[Any]] = {
        "a": [p.a for p in pairs],
        "b": [p.b for p in pairs],
        "label": [p.label for p in pairs],
        "coverage": [p.coverage for p in pairs],
        "cov_ab": [p.cov_ab for p in pairs],
        "cov_ba": [p.cov_ba for p in pairs],
    }
    for m in MEASURES:
        cols[m] = [p.measures[m] for p in pairs]
    for name, flags in same.items():
        cols[f"same_cluster_{name}"] = flags
    pq.write_table(pa.table(cols), path)


if __name__ == "__main__":
    raise SystemExit(main())
