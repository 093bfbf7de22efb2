"""The hand-checked sample: 100 removed and 100 kept lines of the real VNTC clean run.

``draw`` picks the lines (seeded): removed lines stratified over the rules that fired (each rule
gets ``MIN_PER_RULE`` lines or all it removed, the rest of the 100 in proportion to the rules'
removal counts), kept lines uniformly over all kept non-blank lines. ``hand_check.tsv`` holds
one row per line: doc id, line number (1-based, as in ``removed_lines.parquet``), rule (or
``kept``), text, verdict (``boilerplate`` / ``content``, filled in by a person who read the line
in its document) and a note. Redrawing keeps verdicts already written for the same lines.
``context`` writes each sampled line with the lines around it, for the reader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import Doc, doc_lines

COLUMNS = ("doc_id", "line", "rule", "text", "verdict", "note")
VERDICTS = ("boilerplate", "content")
MIN_PER_RULE = 8


@dataclass(slots=True)
class Row:
    doc_id: str
    line: int  # 1-based
    rule: str  # a rule name, or "kept"
    text: str
    verdict: str = ""
    note: str = ""


def allocate(counts: dict[str, int], total: int, floor: int = MIN_PER_RULE) -> dict[str, int]:
    """Lines per rule: ``floor`` each (or all a rule removed), the rest proportional."""
    alloc = {r: min(n, floor) for r, n in counts.items()}
    left = total - sum(alloc.values())
    spare = {r: n - alloc[r] for r, n in counts.items() if n > alloc[r]}
    weight = sum(spare.values())
    if left <= 0 or not weight:
        return alloc
    shares = {r: left * n / weight for r, n in spare.items()}
    extra = {r: min(int(s), spare[r]) for r, s in shares.items()}
    rest = left - sum(extra.values())
    for r in sorted(shares, key=lambda r: shares[r] - int(shares[r]), reverse=True):
        if rest <= 0:
            break
        if extra[r] < spare[r]:
            extra[r] += 1
            rest -= 1
    return {r: alloc[r] + extra.get(r, 0) for r in counts}


def draw(docs: Sequence[Doc], removed: Sequence[dict[str, Any]], size: int, seed: int) -> list[Row]:
    rng = np.random.default_rng(seed)
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for r in removed:
        by_rule.setdefault(r["rule"], []).append(r)
    counts = {rule: len(rows) for rule, rows in sorted(by_rule.items())}
    rows: list[Row] = []
    for rule, n in allocate(counts, size).items():
        picks = rng.choice(len(by_rule[rule]), size=n, replace=False)
        for k in sorted(picks.tolist()):
            r = by_rule[rule][k]
            rows.append(Row(r["id"], int(r["line"]), rule, r["text"].strip()))

    gone = {(r["id"], int(r["line"])) for r in removed}
    kept_counts = []
    for d in docs:
        lines = doc_lines(d.text)
        kept_counts.append(
            sum(1 for i, s in enumerate(lines, 1) if s.strip() and (d.id, i) not in gone)
        )
    offsets = np.concatenate([[0], np.cumsum(kept_counts)])
    picks = np.sort(rng.choice(int(offsets[-1]), size=size, replace=False))
    for p in picks.tolist():
        d_index = int(np.searchsorted(offsets, p, side="right")) - 1
        d = docs[d_index]
        nth = p - int(offsets[d_index])
        kept = [
            (i, s)
            for i, s in enumerate(doc_lines(d.text), 1)
            if s.strip() and (d.id, i) not in gone
        ]
        i, s = kept[nth]
        rows.append(Row(d.id, i, "kept", s.strip()))
    return rows


def read_tsv(path: Path) -> list[Row]:
    """Rows of a hand-check file (tab-separated, no quoting: fields hold no tabs or newlines)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for line in lines[1:]:
        doc_id, number, rule, text, verdict, note = (line.split("\t") + [""] * 6)[:6]
        rows.append(Row(doc_id, int(number), rule, text, verdict.strip(), note.strip()))
    return rows


def _field(value: object) -> str:
    return " ".join(str(value).replace("\t", " ").splitlines())


def write_tsv(rows: Sequence[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = ["\t".join(COLUMNS)]
    for r in rows:
        out.append(
            "\t".join(_field(v) for v in (r.doc_id, r.line, r.rule, r.text, r.verdict, r.note))
        )
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def merge(new: Sequence[Row], old: Sequence[Row]) -> list[Row]:
    """The new draw with the verdicts and notes already written for the same lines."""
    known = {(r.doc_id, r.line, r.rule): r for r in old}
    for r in new:
        prev = known.get((r.doc_id, r.line, r.rule))
        if prev is not None:
            r.verdict, r.note = prev.verdict, prev.note
    return list(new)


def context(rows: Sequence[Row], docs: dict[str, Doc], path: Path, around: int = 4) -> None:
    """Each sampled line in its document: ``around`` lines either side, the line marked."""
    out = []
    for n, r in enumerate(rows, 1):
        d = docs[r.doc_id]
        lines = doc_lines(d.text)
        lo, hi = max(1, r.line - around), min(len(lines), r.line + around)
        out.append(f"### row {n}: {r.doc_id} line {r.line}/{len(lines)} [{r.rule}] ({d.source})")
        for i in range(lo, hi + 1):
            mark = ">>" if i == r.line else "  "
            out.append(f"{mark}{i:4d} {lines[i - 1][:400]}")
        out.append("")
    path.write_text("\n".join(out), encoding="utf-8")


@dataclass(slots=True)
class Score:
    removed: int
    removed_judged: int
    removed_boilerplate: int
    weighted_precision: float | None  # per-rule precision weighted by each rule's removals
    kept: int
    kept_judged: int
    kept_boilerplate: int
    by_rule: dict[str, tuple[int, int]]  # rule -> (judged boilerplate, sampled)
    failing: list[Row]  # removed lines judged content
    missed: list[Row]  # kept lines judged boilerplate

    @property
    def precision(self) -> float | None:
        return self.removed_boilerplate / self.removed_judged if self.removed_judged else None

    @property
    def kept_error(self) -> float | None:
        return self.kept_boilerplate / self.kept_judged if self.kept_judged else None


def score(rows: Sequence[Row], rule_counts: dict[str, int]) -> Score:
    bad = [r for r in rows if r.verdict and r.verdict not in VERDICTS]
    if bad:
        raise ValueError(f"unknown verdicts: {[(r.doc_id, r.line, r.verdict) for r in bad]}")
    removed = [r for r in rows if r.rule != "kept"]
    kept = [r for r in rows if r.rule == "kept"]
    judged = [r for r in removed if r.verdict]
    by_rule: dict[str, tuple[int, int]] = {}
    for rule, n in Counter(r.rule for r in judged).items():
        good = sum(1 for r in judged if r.rule == rule and r.verdict == "boilerplate")
        by_rule[rule] = (good, n)
    total = sum(rule_counts.get(rule, 0) for rule in by_rule)
    weighted = (
        sum(rule_counts.get(rule, 0) * good / n for rule, (good, n) in by_rule.items()) / total
        if total
        else None
    )
    return Score(
        removed=len(removed),
        removed_judged=len(judged),
        removed_boilerplate=sum(1 for r in judged if r.verdict == "boilerplate"),
        weighted_precision=weighted,
        kept=len(kept),
        kept_judged=sum(1 for r in kept if r.verdict),
        kept_boilerplate=sum(1 for r in kept if r.verdict == "boilerplate"),
        by_rule=dict(sorted(by_rule.items())),
        failing=[r for r in judged if r.verdict == "content"],
        missed=[r for r in kept if r.verdict == "boilerplate"],
    )


LEARNED_COLUMNS = ("source", "text", "lines", "pages", "verdict", "note")


def judge_learned(learned: Sequence[dict[str, Any]], path: Path) -> dict[str, Any]:
    """Write the distinct learned lines (keeping verdicts already given) and score them.

    One row per distinct (source, line): every removal of that line is the same decision, so
    judging each distinct line once judges all the rule removed. Precision is by removed line.
    """
    old: dict[tuple[str, str], tuple[str, str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            source, text, _, _, verdict, note = (line.split("\t") + [""] * 6)[:6]
            old[(source, text)] = (verdict.strip(), note.strip())
    rows = []
    for item in learned:
        verdict, note = old.get((item["source"], _field(item["text"])), ("", ""))
        rows.append({**item, "verdict": verdict, "note": note})
    out = ["\t".join(LEARNED_COLUMNS)]
    for r in rows:
        out.append("\t".join(_field(r[c]) for c in LEARNED_COLUMNS))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    bad = [r for r in rows if r["verdict"] and r["verdict"] not in VERDICTS]
    if bad:
        raise ValueError(f"unknown verdicts in {path}: {bad}")
    judged = [r for r in rows if r["verdict"]]
    good = sum(r["lines"] for r in judged if r["verdict"] == "boilerplate")
    total = sum(r["lines"] for r in judged)
    return {
        "tsv": str(path),
        "distinct": len(rows),
        "distinct_judged": len(judged),
        "distinct_boilerplate": sum(1 for r in judged if r["verdict"] == "boilerplate"),
        "lines_judged": total,
        "lines_boilerplate": good,
        "precision": good / total if total else None,
        "rows": rows,
    }
