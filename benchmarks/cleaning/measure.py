"""Cleaning quality on VNTC: lines removed per source and rule, chrome recall on a wrapped
sample, a hand-checked sample of removed and kept lines, and the effect of cleaning on dedup.

    .venv/bin/python benchmarks/cleaning/measure.py                 # every step, ~25 min
    .venv/bin/python benchmarks/cleaning/measure.py --steps handcheck,report --reuse

Steps (each writes ``<work>/<step>.json``; ``report`` renders them all):

- ``clean``: ``tinlap clean`` on VNTC; per source: documents, non-blank lines, share of lines
  removed by each rule (the learned rule apart from the single-document rules).
- ``wrapped``: a seeded sample of VNTC put inside generated per-source site chrome, plus
  reposts under another source's chrome (``wrapped.py``, ``chrome.py``); ``tinlap clean`` with
  and without the learning pass; per source: removal shares, recall of the inserted chrome by
  kind, and article lines removed.
- ``dedup``: ``tinlap dedup`` on VNTC and on the wrapped sample, with cleaning (default),
  ``--no-clean`` and ``--no-learn`` (and the wrapped sample's pages without chrome as a
  baseline): removed documents by reason, clusters, repost recall, removals the article text
  does not support, and on VNTC the pairs only one configuration finds.
- ``handcheck``: draws 100 removed and 100 kept lines of the VNTC clean run into
  ``benchmarks/cleaning/hand_check.tsv`` (verdicts already written are kept) and scores the
  verdicts.
- ``report``: ``benchmarks/results/cleaning-<date>.md``.

tinlap runs one at a time with ``--workers`` processes (2 by default).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

import handcheck
import wrapped
from chrome import SITES
from common import (
    DEFAULT_CORPUS,
    DEFAULT_TINLAP,
    DEFAULT_WORK,
    LEARNED,
    ROOT,
    SOURCES,
    Doc,
    clusters,
    doc_lines,
    pct,
    read_jsonl,
    removed_lines,
    run_tinlap,
    similarity,
)

STEPS = ("clean", "wrapped", "dedup", "handcheck", "report")
HAND_CHECK = Path(__file__).resolve().parent / "hand_check.tsv"
HAND_CHECK_LEARNED = Path(__file__).resolve().parent / "hand_check_learned.tsv"
CHROME_KINDS = ("site", "menu", "crumb", "byline", "date", "most_read", "cookie", "footer")
MATCHING_KEYS = ("shingle_size", "num_perm", "bands", "rows", "keep_policy")
DEDUP_CONFIGS = {"clean": [], "no-clean": ["--no-clean"], "no-learn": ["--no-learn"]}


class Context:
    """Arguments plus lazily loaded inputs shared by the steps."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.work
        self.work.mkdir(parents=True, exist_ok=True)
        self._corpus: list[Doc] | None = None

    @property
    def corpus(self) -> list[Doc]:
        if self._corpus is None:
            print(f"reading {self.args.corpus}", flush=True)
            self._corpus = read_jsonl(self.args.corpus)
        return self._corpus

    def tinlap(self, command: str, inputs: Path, name: str, flags: Sequence[str] = ()) -> Any:
        return run_tinlap(
            self.args.tinlap,
            command,
            inputs,
            self.work / name,
            flags,
            self.args.workers,
            self.args.reuse,
        )

    def save(self, step: str, data: dict[str, Any]) -> None:
        (self.work / f"{step}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))

    def load(self, step: str) -> dict[str, Any]:
        path = self.work / f"{step}.json"
        if not path.exists():
            raise SystemExit(f"{path} is missing: run the {step!r} step first")
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def real_removed(self) -> list[dict[str, Any]]:
        return removed_lines(self.work / "clean-vntc")


# ------------------------------------------------------------------------------------- clean


def removal_table(
    docs: Sequence[tuple[str, str, int]], removed: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Per source: documents, non-blank lines, removed lines by rule. ``docs``: id, source,
    non-blank line count."""
    source_of = {i: s for i, s, _ in docs}
    table: dict[str, dict[str, Any]] = {
        s: {"documents": 0, "lines": 0, "by_rule": Counter()} for s in SOURCES
    }
    for _, s, n in docs:
        table[s]["documents"] += 1
        table[s]["lines"] += n
    for r in removed:
        table[source_of[r["id"]]]["by_rule"][r["rule"]] += 1
    total: dict[str, Any] = {"documents": 0, "lines": 0, "by_rule": Counter()}
    for row in table.values():
        total["documents"] += row["documents"]
        total["lines"] += row["lines"]
        total["by_rule"].update(row["by_rule"])
    table["all"] = total
    return {s: {**row, "by_rule": dict(sorted(row["by_rule"].items()))} for s, row in table.items()}


def step_clean(ctx: Context) -> None:
    run = ctx.tinlap("clean", ctx.args.corpus, "clean-vntc")
    docs = [(d.id, d.source, sum(1 for s in doc_lines(d.text) if s.strip())) for d in ctx.corpus]
    # Sensitivity: what the learned rule takes from real text once its threshold is lower (a
    # line on 0.2% of a site's pages instead of 2%: the share a smaller or section-focused
    # crawl reaches for lines that sit at 0.2-2% of VNTC's outlets).
    low = ctx.tinlap(
        "clean",
        ctx.args.corpus,
        "clean-vntc-lowfrac",
        ["--boilerplate-fraction", str(ctx.args.low_fraction)],
    )
    low_removed = removed_lines(low.out)
    # And at the default threshold with each VNTC topic as a "site" (a section-level source, as
    # a crawl of one section of a site, or of a specialised site, would be).
    sections = ctx.tinlap(
        "clean", ctx.args.corpus, "clean-vntc-bytopic", ["--source-field", "topic"]
    )
    ctx.save(
        "clean",
        {
            "seconds": run.seconds,
            "command": run.command,
            "tinlap_tree": run.tree,
            "learned": run.summary.get("learned_boilerplate"),
            "table": removal_table(docs, removed_lines(run.out)),
            "low_fraction": {
                "fraction": ctx.args.low_fraction,
                "command": low.command,
                "tinlap_tree": low.tree,
                "learned": low.summary.get("learned_boilerplate"),
                "table": removal_table(docs, low_removed),
                "learned_lines": learned_lines(ctx.corpus, low_removed),
            },
            "by_topic": {
                "command": sections.command,
                "tinlap_tree": sections.tree,
                "learned": sections.summary.get("learned_boilerplate"),
                "lines": sum(d[2] for d in docs),
                "learned_lines": learned_lines(
                    ctx.corpus, removed_lines(sections.out), by_topic=True
                ),
            },
        },
    )


def learned_lines(
    docs: Sequence[Doc], removed: Sequence[dict[str, Any]], by_topic: bool = False
) -> list[dict[str, Any]]:
    """Each distinct line the learned rule removed: source, lines, pages, and the share of the
    source's pages it is on, overall and in the topic where it is most frequent. With
    ``by_topic`` the topic is the source (the run used ``--source-field topic``)."""
    info = {d.id: (d.topic if by_topic else d.source, d.topic) for d in docs}
    pages_per = Counter(source for source, _ in info.values())
    topic_pages = Counter(info.values())
    lines: Counter[tuple[str, str]] = Counter()
    pages: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in removed:
        if r["rule"] == LEARNED:
            key = (info[r["id"]][0], " ".join(r["text"].split()))
            lines[key] += 1
            pages[key].add(r["id"])
    out = []
    for key, n in lines.most_common():
        source, text = key
        by_topic = Counter(info[i][1] for i in pages[key])
        topic, hits = max(by_topic.items(), key=lambda kv: kv[1] / topic_pages[(source, kv[0])])
        out.append(
            {
                "source": source,
                "text": text,
                "lines": n,
                "pages": len(pages[key]),
                "share_of_source": round(len(pages[key]) / pages_per[source], 4),
                "top_topic": topic,
                "share_of_topic": round(hits / topic_pages[(source, topic)], 4),
            }
        )
    return out


# ----------------------------------------------------------------------------------- wrapped


def step_wrapped(ctx: Context) -> None:
    folder = ctx.work / "wrapped"
    if not (ctx.args.reuse and (folder / "truth.jsonl").exists()):
        built = wrapped.build(ctx.corpus, ctx.args.sample_size, ctx.args.reposts, ctx.args.seed)
        wrapped.write(built, {d.id: d.topic for d in ctx.corpus}, folder)
    truth = {t.id: t for t in wrapped.read_truth(folder)}
    real_gone = {(r["id"], int(r["line"]) - 1) for r in ctx.real_removed()}
    out: dict[str, Any] = {
        "documents": len(truth),
        "reposts": sum(1 for t in truth.values() if t.variant != "original"),
        "sample_size": ctx.args.sample_size,
        "seed": ctx.args.seed,
        "runs": {},
    }
    for name, flags in (("learn", []), ("no-learn", ["--no-learn"])):
        run = ctx.tinlap("clean", folder / "wrapped.jsonl", f"clean-wrapped-{name}", flags)
        out["runs"][name] = score_wrapped(truth, removed_lines(run.out), real_gone)
        out["runs"][name]["learned"] = run.summary.get("learned_boilerplate")
        out["runs"][name]["command"] = run.command
        out["runs"][name]["tinlap_tree"] = run.tree
    ctx.save("wrapped", out)


def score_wrapped(
    truth: dict[str, wrapped.Truth],
    removed: Sequence[dict[str, Any]],
    real_gone: set[tuple[str, int]],
) -> dict[str, Any]:
    """Per source: removal shares, chrome recall by kind, article lines removed."""
    rule_at = {(r["id"], int(r["line"]) - 1): r["rule"] for r in removed}
    text_at = {(r["id"], int(r["line"]) - 1): r["text"] for r in removed}
    per: dict[str, dict[str, Any]] = {}
    examples: dict[tuple[str, str], dict[str, Any]] = {}
    # Per rule, what it removed: inserted chrome, VNTC's own chrome (a VNTC line the plain run
    # removes too; the hand check found those removals right), or article text.
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for t in truth.values():
        for key in (t.source, "all"):
            row = per.setdefault(
                key,
                {
                    "documents": 0,
                    "lines": 0,
                    "removed_learned": 0,
                    "removed_rules": 0,
                    "chrome": Counter(),
                    "chrome_removed": Counter(),
                    "chrome_removed_learned": Counter(),
                    "article": 0,
                    "article_removed": Counter(),
                    "article_removed_also_in_plain_run": 0,
                },
            )
            row["documents"] += 1
        for i, label in enumerate(t.labels):
            if label == "blank":
                continue
            rule = rule_at.get((t.id, i))
            for key in (t.source, "all"):
                row = per[key]
                row["lines"] += 1
                if rule == LEARNED:
                    row["removed_learned"] += 1
                elif rule is not None:
                    row["removed_rules"] += 1
                kind, _, value = label.partition(":")
                if kind == "chrome":
                    row["chrome"][value] += 1
                    if rule is not None:
                        row["chrome_removed"][value] += 1
                    if rule == LEARNED:
                        row["chrome_removed_learned"][value] += 1
                else:
                    row["article"] += 1
                    if rule is not None:
                        row["article_removed"][rule] += 1
                        if (t.base_id, int(value)) in real_gone:
                            row["article_removed_also_in_plain_run"] += 1
            if rule is not None:
                if label.startswith("chrome:"):
                    by_rule[rule]["chrome"] += 1
                elif (t.base_id, int(label[8:])) in real_gone:
                    by_rule[rule]["vntc_chrome"] += 1
                else:
                    by_rule[rule]["article"] += 1
            if (
                label.startswith("article:")
                and rule is not None
                and (t.base_id, int(label[8:])) not in real_gone
            ):
                key = (rule, " ".join(text_at[(t.id, i)].split()))
                if key not in examples:
                    examples[key] = {
                        "id": t.id,
                        "line": i + 1,
                        "rule": rule,
                        "text": key[1][:160],
                        "count": 0,
                    }
                examples[key]["count"] += 1
    return {
        "per_source": {
            s: {k: dict(v) if isinstance(v, Counter) else v for k, v in row.items()}
            for s, row in per.items()
        },
        "by_rule": {rule: dict(c) for rule, c in sorted(by_rule.items())},
        "article_removed_examples": sorted(examples.values(), key=lambda e: -e["count"])[:40],
        "article_removed_not_in_plain_run": sum(e["count"] for e in examples.values()),
    }


# ------------------------------------------------------------------------------------- dedup


def dedup_summary(run: Any) -> dict[str, Any]:
    s = run.summary
    return {
        "documents": s["documents_read"],
        "removed": s["documents_removed"],
        "by_reason": s["removed_by_reason"],
        "clusters": s["clusters"],
        "verified_duplicate_pairs": s["matching"]["verified_duplicate_pairs"],
        "lines_removed_by_rule": s["cleaning"]["lines_removed_by_rule"],
        "matching_config": {
            k: v
            for k, v in s["config"].items()
            if k in MATCHING_KEYS or k.endswith(("_threshold", "_containment", "_coverage"))
        },
        "seconds": run.seconds,
        "command": run.command,
        "tinlap_tree": run.tree,
    }


def removals(out: Path) -> dict[str, str]:
    """Removed document -> the kept document it was removed for."""
    return {r["id"]: r["duplicate_of"] for r in clusters(out) if not r["kept"]}


def step_dedup(ctx: Context) -> None:
    data: dict[str, Any] = {"vntc": {}, "wrapped": {}}
    # The wrapped sample first (small), then the full corpus.
    folder = ctx.work / "wrapped"
    truth = {t.id: t for t in wrapped.read_truth(folder)}
    plain = {d.id: d.text for d in read_jsonl(folder / "plain.jsonl")}
    runs = {
        name: ctx.tinlap("dedup", folder / "wrapped.jsonl", f"dedup-wrapped-{name}", flags)
        for name, flags in DEDUP_CONFIGS.items()
    }
    runs["plain"] = ctx.tinlap("dedup", folder / "plain.jsonl", "dedup-plain")
    for name, run in runs.items():
        data["wrapped"][name] = {**dedup_summary(run), **score_reposts(run.out, truth, plain)}

    vntc = {
        name: ctx.tinlap("dedup", ctx.args.corpus, f"dedup-vntc-{name}", flags)
        for name, flags in DEDUP_CONFIGS.items()
    }
    for name, run in vntc.items():
        data["vntc"][name] = dedup_summary(run)
    data["vntc_differences"] = vntc_differences(ctx, {n: r.out for n, r in vntc.items()})
    ctx.save("dedup", data)


def score_reposts(
    out: Path, truth: dict[str, wrapped.Truth], plain: dict[str, str]
) -> dict[str, Any]:
    """Repost recall by variant, and removals that the pages' article text does not support."""
    rows = clusters(out)
    cluster_of = {r["id"]: r["cluster_id"] for r in rows}
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for t in truth.values():
        if t.variant == "original":
            continue
        hit = t.id in cluster_of and cluster_of[t.id] == cluster_of.get(t.base_id)
        for key in (t.variant, "all"):
            total[key] += 1
            found[key] += hit
    pairs = [(r["id"], r["duplicate_of"]) for r in rows if not r["kept"]]
    ids = sorted({i for p in pairs for i in p})
    index = {i: k for k, i in enumerate(ids)}
    scores = similarity([plain[i] for i in ids], [(index[a], index[b]) for a, b in pairs])
    unsupported = []
    for (a, b), (jac, cont_a, _) in zip(pairs, scores, strict=True):
        if jac < 0.5 and cont_a < 0.6:
            unsupported.append(
                {
                    "id": a,
                    "duplicate_of": b,
                    "body_jaccard": round(jac, 3),
                    "body_containment": round(cont_a, 3),
                    "same_source": truth[a].source == truth[b].source,
                }
            )
    return {
        "repost_recall": {k: [found[k], total[k]] for k in (*wrapped.VARIANTS, "all")},
        "unsupported_removals": len(unsupported),
        "unrelated_removals": sum(1 for u in unsupported if u["body_containment"] < 0.2),
        "unsupported_same_source": sum(1 for u in unsupported if u["same_source"]),
        "unsupported_examples": unsupported[:10],
    }


def vntc_differences(ctx: Context, outs: dict[str, Path]) -> dict[str, Any]:
    """Pairs (removed, kept) only one of (clean, no-clean) reports, with their similarity on the
    raw and on the cleaned text (cleaned = the VNTC clean run's kept lines; VNTC learns no
    chrome, so this is also the text the default dedup run matched).

    Pairs are compared unordered: a pair both runs find, with the roles swapped (the keep
    policy compares cleaned lengths), is counted as ``flipped``, not as a difference. A pair one
    run reports whose two documents still share a cluster in the other run (through a third
    copy) is ``same_cluster_elsewhere``: only which pair was recorded differs.
    """
    docs = {d.id: d for d in ctx.corpus}
    gone: dict[str, set[int]] = defaultdict(set)
    for r in ctx.real_removed():
        gone[r["id"]].add(int(r["line"]) - 1)

    def cleaned(doc_id: str) -> str:
        lines = doc_lines(docs[doc_id].text)
        return "\n".join(s for i, s in enumerate(lines) if i not in gone[doc_id])

    table = {name: clusters(out) for name, out in outs.items()}
    cluster_of = {name: {r["id"]: r["cluster_id"] for r in rows} for name, rows in table.items()}
    pairs = {
        name: {
            frozenset((r["id"], r["duplicate_of"])): (r["id"], r["duplicate_of"])
            for r in rows
            if not r["kept"]
        }
        for name, rows in table.items()
    }
    result: dict[str, Any] = {
        "no_learn_equals_clean": pairs["no-learn"] == pairs["clean"],
        "flipped": sum(
            1
            for k, v in pairs["clean"].items()
            if k in pairs["no-clean"] and pairs["no-clean"][k] != v
        ),
        "common": len(pairs["clean"].keys() & pairs["no-clean"].keys()),
    }
    for name, this, other in (
        ("only_clean", "clean", "no-clean"),
        ("only_no_clean", "no-clean", "clean"),
    ):
        found = sorted(v for k, v in pairs[this].items() if k not in pairs[other])
        ids = sorted({i for p in found for i in p})
        index = {i: k for k, i in enumerate(ids)}
        idx_pairs = [(index[a], index[b]) for a, b in found]
        raw = similarity([docs[i].text for i in ids], idx_pairs)
        clean = similarity([cleaned(i) for i in ids], idx_pairs)
        elsewhere = cluster_of[other]
        rows = [
            {
                "id": a,
                "duplicate_of": b,
                "raw": [round(x, 3) for x in r],
                "cleaned": [round(x, 3) for x in c],
                "lines_removed": [len(gone[a]), len(gone[b])],
                "same_cluster_elsewhere": a in elsewhere and elsewhere[a] == elsewhere.get(b),
            }
            for (a, b), r, c in zip(found, raw, clean, strict=True)
        ]
        real = [r for r in rows if not r["same_cluster_elsewhere"]]
        result[name] = {
            "count": len(rows),
            "same_cluster_elsewhere": len(rows) - len(real),
            "qualify_raw": sum(1 for r in real if qualifies(r["raw"])),
            "qualify_cleaned": sum(1 for r in real if qualifies(r["cleaned"])),
            "median_raw_containment": median(r["raw"][1] for r in real) if real else None,
            "median_cleaned_containment": median(r["cleaned"][1] for r in real) if real else None,
            "examples": sorted(real, key=lambda r: r["raw"][1] - r["cleaned"][1])[:15],
        }
    return result


def qualifies(score: Sequence[float], jaccard: float = 0.5, containment: float = 0.6) -> bool:
    """Whether (Jaccard, containment of the removed side, …) makes a copy at the defaults."""
    return score[0] >= jaccard or score[1] >= containment


# --------------------------------------------------------------------------------- handcheck


def step_handcheck(ctx: Context) -> None:
    removed = ctx.real_removed()
    rows = handcheck.draw(ctx.corpus, removed, 100, ctx.args.seed)
    tsv: Path = ctx.args.hand_check
    rows = handcheck.merge(rows, handcheck.read_tsv(tsv))
    handcheck.write_tsv(rows, tsv)
    docs = {d.id: d for d in ctx.corpus}
    handcheck.context(rows, docs, ctx.work / "hand_check_context.txt")
    counts = Counter(r["rule"] for r in removed)
    result = handcheck.score(rows, dict(counts))
    ctx.save(
        "handcheck",
        {
            "tsv": rel(str(tsv)),
            "removed": result.removed,
            "removed_judged": result.removed_judged,
            "removed_boilerplate": result.removed_boilerplate,
            "precision": result.precision,
            "weighted_precision": result.weighted_precision,
            "kept": result.kept,
            "kept_judged": result.kept_judged,
            "kept_boilerplate": result.kept_boilerplate,
            "kept_error": result.kept_error,
            "by_rule": result.by_rule,
            "rule_counts": dict(counts),
            "failing": [vars_of(r) for r in result.failing],
            "missed": [vars_of(r) for r in result.missed],
        },
    )
    learned = ctx.load("clean")["low_fraction"]["learned_lines"]
    judged = handcheck.judge_learned(learned, ctx.args.hand_check_learned)
    data = ctx.load("handcheck")
    data["learned"] = judged
    ctx.save("handcheck", data)
    print(
        f"hand check: {result.removed_judged}/{result.removed} removed and "
        f"{result.kept_judged}/{result.kept} kept lines judged; precision {result.precision}, "
        f"kept error {result.kept_error}; context in {ctx.work / 'hand_check_context.txt'}"
    )


def vars_of(row: handcheck.Row) -> dict[str, Any]:
    return {
        "doc_id": row.doc_id,
        "line": row.line,
        "rule": row.rule,
        "text": row.text,
        "note": row.note,
    }


# ------------------------------------------------------------------------------------ report


def fmt_int(n: int) -> str:
    return f"{n:,}"


def step_report(ctx: Context) -> None:
    today = dt.date.today().isoformat()
    path = ctx.args.results or ROOT / "benchmarks" / "results" / f"cleaning-{today}.md"
    md = render(ctx, today)
    path.write_text(md, encoding="utf-8")
    print(f"wrote {path}")


def render(ctx: Context, today: str) -> str:
    a = ctx.args
    clean, wrap, dedup = ctx.load("clean"), ctx.load("wrapped"), ctx.load("dedup")
    hc = ctx.load("handcheck")
    out: list[str] = [
        f"# Cleaning quality on VNTC, {today}",
        "",
        f"tinlap {describe_versions(clean, wrap, dedup)}; corpus `{a.corpus.name}`; "
        f"`-j {a.workers}`; seed {a.seed}. "
        f"Machine: {platform.machine()}, Python {platform.python_version()}. Reproduce with "
        "`.venv/bin/python benchmarks/cleaning/measure.py` (see the end).",
        "",
        "## 1. Lines removed on VNTC, per source",
        "",
        f"`{' '.join(Path(x).name if i == 0 else x for i, x in enumerate(clean['command']))}` "
        f"({clean['seconds']} s). Lines = non-blank lines. Learned model: "
        f"{json.dumps(clean['learned'])}.",
        "",
    ]
    table = clean["table"]
    rules = sorted({r for row in table.values() for r in row["by_rule"]})
    out.append(
        "| source | documents | lines | learned_boilerplate | single-document rules | "
        "total removed |"
    )
    out.append("|---|---:|---:|---:|---:|---:|")
    for s in (*SOURCES, "all"):
        row = table[s]
        learned = row["by_rule"].get(LEARNED, 0)
        single = sum(n for r, n in row["by_rule"].items() if r != LEARNED)
        out.append(
            f"| {s} | {fmt_int(row['documents'])} | {fmt_int(row['lines'])} | "
            f"{pct(learned, row['lines'])} ({learned}) | {pct(single, row['lines'])} "
            f"({fmt_int(single)}) | {pct(learned + single, row['lines'])} |"
        )
    out += ["", "By rule (share of the source's lines, count):", ""]
    out.append("| rule | " + " | ".join((*SOURCES, "all")) + " |")
    out.append("|---|" + "---:|" * (len(SOURCES) + 1))
    for rule in rules:
        cells = [
            f"{pct(table[s]['by_rule'].get(rule, 0), table[s]['lines'], 3)} "
            f"({fmt_int(table[s]['by_rule'].get(rule, 0))})"
            for s in (*SOURCES, "all")
        ]
        out.append(f"| {rule} | " + " | ".join(cells) + " |")

    out += render_sensitivity(clean["low_fraction"], hc.get("learned"))
    out += render_sections(clean["by_topic"], hc.get("learned"))

    # Wrapped sample
    out += [
        "",
        "## 2. Wrapped sample: generated site chrome per source",
        "",
        f"{wrap['documents']:,} pages: a seeded sample of {wrap['sample_size']:,} VNTC "
        f"articles, each inside its source's invented site, plus {wrap['reposts']} reposts "
        "under another source's site (`benchmarks/cleaning/chrome.py`, `wrapped.py`). Site "
        "chrome per page: "
        + "; ".join(f"{s} {' → '.join(SITES[s].layout)}" for s in SOURCES)
        + ". Chrome kinds: "
        "`site` name line, `menu`, `crumb` (breadcrumb, by topic), house `byline` (20 "
        "authors per site; TN's carries the date and time), `date` stamp (unique per day), "
        "`most_read` (5 titles of other articles of the source from a rotating pool of 30), "
        "`cookie` notice, `footer` (3 lines).",
        "",
    ]
    for name in ("learn", "no-learn"):
        r = wrap["runs"][name]
        per = r["per_source"]
        out += [
            "### `tinlap clean` "
            + ("(default: learning pass on)" if name == "learn" else "`--no-learn`"),
            "",
            f"Learned model: {json.dumps(r['learned'])}.",
            "",
            "| source | pages | lines | removed by learned | by single-doc rules | total "
            "| chrome recall | chrome recall, learned rule alone | article lines removed only "
            "when wrapped | article lines removed, also on plain VNTC |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for s in (*SOURCES, "all"):
            row = per[s]
            chrome, got = sum(row["chrome"].values()), sum(row["chrome_removed"].values())
            got_l = sum(row["chrome_removed_learned"].values())
            also = row["article_removed_also_in_plain_run"]
            art = sum(row["article_removed"].values()) - also
            out.append(
                f"| {s} | {row['documents']:,} | {row['lines']:,} | "
                f"{pct(row['removed_learned'], row['lines'])} | "
                f"{pct(row['removed_rules'], row['lines'])} | "
                f"{pct(row['removed_learned'] + row['removed_rules'], row['lines'])} | "
                f"{pct(got, chrome, 1)} ({got:,}/{chrome:,}) | {pct(got_l, chrome, 1)} | "
                f"{art} of {row['article']:,} ({pct(art, row['article'], 3)}) | "
                f"{also} ({pct(also, row['article'], 2)}) |"
            )
        out += [
            "",
            "What each rule removed (by the ground-truth labels; *VNTC chrome* = a line of the "
            "VNTC text that cleaning the VNTC document alone removes too):",
            "",
            "| rule | removed | inserted chrome | VNTC chrome | article text | precision |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for rule, c in r["by_rule"].items():
            n = sum(c.values())
            good = c.get("chrome", 0) + c.get("vntc_chrome", 0)
            out.append(
                f"| {rule} | {n:,} | {c.get('chrome', 0):,} | {c.get('vntc_chrome', 0):,} | "
                f"{c.get('article', 0):,} | {good / n:.4f} |"
            )
        out += [
            "",
            "Chrome recall by kind (removed / inserted):",
            "",
            "| kind | " + " | ".join((*SOURCES, "all")) + " |",
            "|---|" + "---:|" * (len(SOURCES) + 1),
        ]
        for kind in CHROME_KINDS:
            cells = []
            for s in (*SOURCES, "all"):
                n = per[s]["chrome"].get(kind, 0)
                got = per[s]["chrome_removed"].get(kind, 0)
                cells.append(f"{pct(got, n, 1)} ({got}/{n})" if n else "—")
            out.append(f"| {kind} | " + " | ".join(cells) + " |")
        by_rule = per["all"]["article_removed"]
        out += [
            "",
            "Article lines (the VNTC text inside the page) removed, by rule: "
            f"{json.dumps(by_rule)}; {r['article_removed_not_in_plain_run']} of them are kept "
            "when the same VNTC document is cleaned alone (section 1); the others are VNTC's "
            "own chrome (mostly its dated related lists).",
        ]
        if r["article_removed_examples"]:
            out += [
                "",
                "<details><summary>article lines removed that the VNTC run keeps, by distinct "
                "text (up to 40)</summary>",
                "",
                "| lines | first page | line | rule | text |",
                "|---:|---|---:|---|---|",
            ]
            for e in r["article_removed_examples"]:
                out.append(
                    f"| {e['count']} | {e['id']} | {e['line']} | {e['rule']} | "
                    f"{md_cell(e['text'])} |"
                )
            out += ["", "</details>"]
        out.append("")

    # Hand check
    out += [
        "## 3. Hand-checked sample (VNTC clean run)",
        "",
        f"`{hc['tsv']}`: {hc['removed']} removed lines (stratified by rule: at least "
        f"{handcheck.MIN_PER_RULE} per rule, the rest in proportion) and {hc['kept']} kept "
        "lines (uniform over all kept non-blank lines), each judged in its document.",
        "",
    ]
    if hc["removed_judged"] < hc["removed"] or hc["kept_judged"] < hc["kept"]:
        out += [
            f"**Not fully judged yet**: {hc['removed_judged']}/{hc['removed']} removed, "
            f"{hc['kept_judged']}/{hc['kept']} kept.",
            "",
        ]
    out += [
        f"- Removal precision (removed lines judged boilerplate / judged): "
        f"**{fmt_ratio(hc['precision'])}** ({hc['removed_boilerplate']}/{hc['removed_judged']}); "
        "weighted by each rule's share of all removals: "
        f"**{fmt_ratio(hc['weighted_precision'])}**. Bar: ≥ 0.95.",
        f"- Kept-line error rate (kept lines judged boilerplate / judged): "
        f"**{fmt_ratio(hc['kept_error'])}** ({hc['kept_boilerplate']}/{hc['kept_judged']}).",
        "",
        "| rule | removed on VNTC | sampled | judged boilerplate | precision |",
        "|---|---:|---:|---:|---:|",
    ]
    for rule, (good, n) in hc["by_rule"].items():
        out.append(
            f"| {rule} | {hc['rule_counts'].get(rule, 0):,} | {n} | {good} | {good / n:.2f} |"
        )
    for title, rows in (
        ("Removed lines judged content", hc["failing"]),
        ("Kept lines judged boilerplate", hc["missed"]),
    ):
        if rows:
            out += [
                "",
                f"{title}:",
                "",
                "| doc | line | rule | text | note |",
                "|---|---:|---|---|---|",
            ]
            for r in rows:
                out.append(
                    f"| {r['doc_id']} | {r['line']} | {r['rule']} | "
                    f"{md_cell(r['text'][:200])} | {md_cell(r['note'])} |"
                )

    # Dedup
    out += [
        "",
        "## 4. Effect of cleaning on dedup",
        "",
        "Pairs found = documents removed (each is removed for one kept document it was "
        "verified against). Matching settings of these runs (the tinlap defaults of the tree "
        f"above): `{json.dumps(dedup['vntc']['clean'].get('matching_config', {}))}`.",
        "",
        "| input | run | removed | exact | near | contained | clusters | verified pairs | wall s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for corpus_name in ("vntc", "wrapped"):
        for name, row in dedup[corpus_name].items():
            br = row["by_reason"]
            label = {
                "clean": "cleaning (default)",
                "no-clean": "`--no-clean`",
                "no-learn": "`--no-learn`",
                "plain": "pages without chrome",
            }[name]
            out.append(
                f"| {'VNTC' if corpus_name == 'vntc' else 'wrapped sample'} | {label} | "
                f"{row['removed']:,} | {br['exact']:,} | {br['near']:,} | {br['contained']:,} | "
                f"{row['clusters']:,} | {row['verified_duplicate_pairs']:,} | {row['seconds']} |"
            )
    diff = dedup["vntc_differences"]
    out += [
        "",
        f"VNTC, pairs (removed, kept) compared unordered: {diff['common']:,} found by both "
        f"runs ({diff['flipped']} with the roles swapped, the keep policy comparing cleaned "
        "lengths). Pairs only one run reports, with the pair's similarity on the raw and on "
        "the cleaned text (Jaccard, containment of the removed document); pairs whose "
        "documents still share a cluster in the other run, through a third copy, are left "
        "aside:",
        "",
    ]
    for key, label in (("only_clean", "only with cleaning"), ("only_no_clean", "only without")):
        d = diff[key]
        real = d["count"] - d["same_cluster_elsewhere"]
        out.append(
            f"- {label}: {d['count']} pairs, {d['same_cluster_elsewhere']} of them clustered "
            f"together in the other run too; of the other {real}, {d['qualify_raw']} qualify "
            f"on the raw text and {d['qualify_cleaned']} on the cleaned text (median "
            f"containment raw {fmt_ratio(d['median_raw_containment'])}, cleaned "
            f"{fmt_ratio(d['median_cleaned_containment'])})."
        )
    out.append(
        f"- `--no-learn` reports the same pairs as the default: "
        f"{diff['no_learn_equals_clean']} (VNTC learns no chrome)."
    )
    for key in ("only_clean", "only_no_clean"):
        if diff[key]["examples"]:
            out += [
                "",
                f"<details><summary>{key}: pairs in different clusters in the other run</summary>",
                "",
                "| removed | kept | raw J / C | cleaned J / C | lines cleaned (removed, kept) |",
                "|---|---|---|---|---|",
            ]
            for e in diff[key]["examples"]:
                out.append(
                    f"| {e['id']} | {e['duplicate_of']} | {e['raw'][0]} / {e['raw'][1]} | "
                    f"{e['cleaned'][0]} / {e['cleaned'][1]} | {e['lines_removed']} |"
                )
            out += ["", "</details>"]

    out += [
        "",
        "Wrapped sample: repost recall (repost and its original in one cluster) and "
        "removals the article text does not support (the pair's chrome-free texts have "
        "Jaccard < 0.5 and containment < 0.6; *unrelated*: containment < 0.2):",
        "",
        "| run | full | trim_tail | trim_both | all reposts | unsupported removals "
        "(same source) | unrelated |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in dedup["wrapped"].items():
        rr = row["repost_recall"]
        cells = [
            f"{pct(f, t, 1)} ({f}/{t})" for f, t in (rr[v] for v in (*wrapped.VARIANTS, "all"))
        ]
        out.append(
            f"| {name} | "
            + " | ".join(cells)
            + f" | {row['unsupported_removals']} ({row['unsupported_same_source']}) | "
            f"{row['unrelated_removals']} |"
        )

    out += [
        "",
        "## Reproduce",
        "",
        "```bash",
        f".venv/bin/python benchmarks/cleaning/measure.py --workers {a.workers} "
        f"--sample-size {a.sample_size} --reposts {a.reposts} --seed {a.seed}",
        "# after filling in verdicts in benchmarks/cleaning/hand_check.tsv:",
        ".venv/bin/python benchmarks/cleaning/measure.py --steps handcheck,report --reuse",
        "```",
        "",
        "Commands run (outputs under `benchmarks/.work/cleaning/`):",
        "",
        "```",
    ]
    commands = [
        clean["command"],
        *(r["command"] for r in wrap["runs"].values()),
        *(r["command"] for c in ("wrapped", "vntc") for r in dedup[c].values()),
    ]
    out += [" ".join(rel(x) for x in c) for c in commands]
    out += ["```", ""]
    return "\n".join(out)


def render_sensitivity(low: dict[str, Any], judged: dict[str, Any] | None) -> list[str]:
    """Section 1b: the learned rule on VNTC at a lower threshold, every line it removes."""
    table = low["table"]
    verdicts = {
        (r["source"], r["text"]): (r["verdict"], r["note"]) for r in (judged or {}).get("rows", [])
    }

    def need(fraction: float) -> str:
        return ", ".join(
            f"{max(5, math.ceil(fraction * table[s]['documents'])):,}" for s in SOURCES
        )

    out = [
        "",
        f"### Sensitivity: the learned rule on real text at `--boilerplate-fraction "
        f"{low['fraction']}`",
        "",
        f"At the default 2% a line must be on {need(0.02)} pages (VNE, NLD, TT, TN). A site "
        "whose pages hold a recurring format more often (a section-focused crawl, a smaller "
        f"site) reaches that share sooner; this run lowers the threshold to {low['fraction']:.1%}"
        f" ({need(low['fraction'])} pages) to see what real text the rule then takes. Learned "
        f"model: {json.dumps(low['learned'])}.",
        "",
        "| source | learned_boilerplate share of lines |",
        "|---|---:|",
    ]
    for s in (*SOURCES, "all"):
        row = table[s]
        n = row["by_rule"].get(LEARNED, 0)
        out.append(f"| {s} | {pct(n, row['lines'], 3)} ({n:,}) |")
    out += [
        "",
        "Every distinct line it removed (hand-judged in context; share of pages = of the "
        "source's pages, and in the topic where the line is most frequent):",
        "",
        "| source | line | lines removed | share of pages | top topic: share | verdict | note |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for item in low["learned_lines"]:
        verdict, note = verdicts.get((item["source"], item["text"]), ("", ""))
        out.append(
            f"| {item['source']} | {md_cell(item['text'][:90])} | {item['lines']:,} | "
            f"{item['share_of_source']:.2%} | {item['top_topic']}: "
            f"{item['share_of_topic']:.1%} | {verdict or '—'} | {md_cell(note)} |"
        )
    if judged and judged["lines_judged"]:
        out += [
            "",
            "Precision of the learned rule at this threshold, by removed line: "
            f"**{fmt_ratio(judged['precision'])}** ({judged['lines_boilerplate']:,} of "
            f"{judged['lines_judged']:,} lines; {judged['distinct_boilerplate']} of "
            f"{judged['distinct_judged']} distinct lines are boilerplate).",
        ]
    return out


def render_sections(sections: dict[str, Any], judged: dict[str, Any] | None) -> list[str]:
    """Section 1c: the default threshold with VNTC's topics as sources."""
    verdicts = {r["text"]: r["verdict"] for r in (judged or {}).get("rows", [])}
    items = sections["learned_lines"]
    total = sum(i["lines"] for i in items)
    good = sum(i["lines"] for i in items if verdicts.get(i["text"]) == "boilerplate")
    unjudged = sum(i["lines"] for i in items if i["text"] not in verdicts)
    out = [
        "",
        "### Sensitivity: default threshold, each topic as a source (`--source-field topic`)",
        "",
        "A section-level source (one section of a site, or a specialised site) at the default "
        f"2%. Learned model: {json.dumps(sections['learned'])}; the learned rule removes "
        f"{total:,} lines ({pct(total, sections['lines'], 3)} of all lines):",
        "",
        "| topic | line | lines removed | share of the topic's pages | verdict (above) |",
        "|---|---|---:|---:|---|",
    ]
    for item in items:
        out.append(
            f"| {item['source']} | {md_cell(item['text'][:90])} | {item['lines']:,} | "
            f"{item['share_of_source']:.1%} | {verdicts.get(item['text'], '—')} |"
        )
    out += [
        "",
        f"Precision by removed line: **{fmt_ratio(good / total if total else None)}** "
        f"({good:,} of {total:,}" + (f"; {unjudged:,} not judged" if unjudged else "") + ").",
    ]
    return out


def describe_versions(*steps: dict[str, Any]) -> str:
    """The source tree(s) the tinlap runs used (recorded by each run)."""
    states: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("tinlap_tree"), str):
                states.add(node["tinlap_tree"])
            for value in node.values():
                walk(value)

    for step in steps:
        walk(step)
    return " / ".join(sorted(states)) or "(unknown tree)"


def rel(arg: str) -> str:
    try:
        return str(Path(arg).resolve().relative_to(ROOT)) if "/" in arg else arg
    except ValueError:
        return arg


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


# -------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--work", type=Path, default=DEFAULT_WORK)
    p.add_argument("--tinlap", type=Path, default=DEFAULT_TINLAP)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sample-size", type=int, default=5000)
    p.add_argument("--reposts", type=int, default=300)
    p.add_argument("--seed", type=int, default=20261125)
    p.add_argument("--hand-check", type=Path, default=HAND_CHECK, help="the hand-check TSV")
    p.add_argument(
        "--hand-check-learned",
        type=Path,
        default=HAND_CHECK_LEARNED,
        help="verdicts on the lines the learned rule removes at --low-fraction",
    )
    p.add_argument(
        "--low-fraction",
        type=float,
        default=0.002,
        help="--boilerplate-fraction of the sensitivity run on VNTC",
    )
    p.add_argument(
        "--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}"
    )
    p.add_argument(
        "--reuse",
        action="store_true",
        help="reuse finished tinlap runs and the built wrapped sample in --work",
    )
    p.add_argument(
        "--results",
        type=Path,
        default=None,
        help="report path (default benchmarks/results/cleaning-<date>.md)",
    )
    args = p.parse_args(argv)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = set(steps) - set(STEPS)
    if unknown:
        p.error(f"unknown steps: {sorted(unknown)}")
    ctx = Context(args)
    for step in STEPS:
        if step in steps:
            print(f"== {step}", flush=True)
            globals()[f"step_{step}"](ctx)


if __name__ == "__main__":
    sys.exit(main())
