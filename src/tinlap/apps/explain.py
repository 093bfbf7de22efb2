"""Why two documents are (or are not) copies: scores, the decision, and the texts aligned.

Trust in a dedup run comes from seeing its reasons. ``explain`` scores a pair exactly as dedup
verifies it (same cleaning, key tokens, shingles and ``verify``), takes the decision with the
same code (``cluster.decide`` under the keep policy's ranking), and aligns the two cleaned
texts (``align.py``), so every number and every mark can be checked against the text.

JSON (``tinlap explain --json``; ``to_json``), schema ``tinlap.apps.explain/1``::

    {
      "schema": "tinlap.apps.explain/1",
      "a": DOC, "b": DOC,
      "scores": {"jaccard": float, "containment_a_in_b": float, "containment_b_in_a": float,
                 "shared_shingles": int, "exact": bool, "candidate_probability": float},
      "settings": {"shingle_size": int, "shingles": str, "char_shingle_size": int,
                   "jaccard_threshold": float,
                   "containment_threshold": float, "certain_containment": float,
                   "min_sentence_coverage": float, "keep_policy": str, "bands": int,
                   "rows": int, "clean": bool},
      "decision": {"removed": str | null, "duplicate_of": str | null,
                   "reason": "exact" | "near" | "contained" | null, "why": str},
      "recorded": null | {"a": ROW | null, "b": ROW | null},
      "alignment": null | ALIGNMENT
    }
    ALIGNMENT = {"copy": "a" | "b", "original": "a" | "b", "coverage": float,
                 "exact": float, "contained": float, "edited": float, "required": float,
                 "decisive": bool,
                 "sentences": [{"index": int, "status": "exact" | "contained" | "edited" |
                                "unmatched" | "short", "text": str, "similarity": float,
                                "target": str | null, "edit": str | null}, ...]}
    DOC = {"id": str, "where": str, "text": str, "key_tokens": int, "shingles": int,
           "shared": [[start, end], ...], "only": [[start, end], ...],
           "boilerplate": [{"line": int, "text": str, "rule": str}, ...]}
    ROW = {"cluster_id": str, "kept": bool, "duplicate_of": str | null,
           "jaccard": float | null, "containment": float | null, "reason": str | null}

``text`` is the cleaned text that was matched; ``shared`` and ``only`` are [start, end)
offsets in it (Python string indices, i.e. code points): the passages found in the other
text, and those only in this one. ``boilerplate`` lists the input lines cleaning removed
(1-based line numbers of the input text, as ``removed_lines.parquet`` gives them).
``candidate_probability`` is the chance that LSH proposes a pair of this Jaccard in a corpus
run, 1 − (1 − J^rows)^bands. ``recorded`` (ids of a dedup output only) holds the two ids' rows
of ``clusters.parquet``; null for a document in no cluster. ``alignment`` is how the copy's
sentences are found in the original (``CopyRule.alignment``): for every removal but an exact
one, and for a pair the sentence check kept apart; ``decisive`` says whether the decision
rested on it (containment below ``certain_containment``) or the scores alone decided. Null
when both stay without a sentence check. ``text`` of a sentence is its matching key (lower
case, punctuation out), as compared; ``edit`` marks ``[-target's words-]`` and
``{+copy's words+}``.

A and B are the two documents as given. Name them copy first: ``tinlap explain REMOVED KEPT``
(A = the removed copy, B = its kept original), as the HTML report does.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import click
import numpy as np

from tinlap.apps.retrieve import Document
from tinlap.config import DedupConfig
from tinlap.core.align import KeyTokens, Side, align_tokens, key_tokens
from tinlap.core.decide import decide, policy_rank
from tinlap.core.normalise import TokenBatch, matching_key
from tinlap.core.rules import CopyRule
from tinlap.core.sentences import Alignment, sentence_texts
from tinlap.core.sketch import exact_keys, shingle_sets
from tinlap.core.verify import PairScores, verify
from tinlap.wording import count, number

SCHEMA = "tinlap.apps.explain/1"


@dataclass(frozen=True, slots=True)
class Scores:
    jaccard: float
    containment_a_in_b: float
    containment_b_in_a: float
    shared_shingles: int
    shingles_a: int
    shingles_b: int
    exact: bool


@dataclass(frozen=True, slots=True)
class TextCheck:
    """How document ``copy``'s sentences (0 = A, 1 = B) are found in ``original``.

    ``decisive``: the decision rested on it (a grey-zone pair, below ``certain_containment``).
    Otherwise the scores alone removed ``copy`` and the alignment is the evidence for a reader
    (every removal but an exact one shows it), not a step of the decision.
    """

    copy: int
    original: int
    alignment: Alignment
    required: float
    decisive: bool = True


@dataclass(frozen=True, slots=True)
class PairOutcome:
    """What dedup does with the pair, and why. Not ``core.decide.Decision`` (the engines'
    record of one removal: this may also say that both stay), nor ``index.store.Verdict``
    (what one document copies in an index)."""

    removed: str | None
    duplicate_of: str | None
    reason: str | None
    why: str
    text_check: TextCheck | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    a: Document
    b: Document
    tokens_a: int
    tokens_b: int
    scores: Scores
    decision: PairOutcome
    side_a: Side
    side_b: Side
    config: DedupConfig
    recorded: dict[str, dict[str, Any] | None] | None = None
    units: tuple[bool, bool] = (True, False)  # (any word units, any character units)


def score(
    a: KeyTokens, b: KeyTokens, shingle_size: int, char_shingle_size: int | None = None
) -> tuple[Scores, PairScores]:
    """The pair's exact scores, computed by dedup's own shingling and verification."""
    chars = None
    if a.chars is not None or b.chars is not None:
        chars = np.concatenate([_chars(a), _chars(b)])
    tokens = TokenBatch(
        np.concatenate([a.hashes, b.hashes]),
        np.array([0, len(a), len(a) + len(b)], np.int64),
        chars,
    )
    sets = shingle_sets(tokens, shingle_size, char_shingle_size)
    pair = verify(sets, np.array([0]), np.array([1]))
    keys = exact_keys(tokens)
    size_a, size_b = (int(x) for x in sets.sizes)
    scores = Scores(
        float(pair.jaccard[0]),
        float(pair.containment_a[0]),
        float(pair.containment_b[0]),
        int(pair.intersection[0]),
        size_a,
        size_b,
        exact=size_a > 0 and bool((keys[0] == keys[1]).all()),
    )
    return scores, pair


def _chars(tokens: KeyTokens) -> np.ndarray:
    return np.zeros(len(tokens), bool) if tokens.chars is None else tokens.chars


def explain(
    a: Document,
    b: Document,
    config: DedupConfig,
    recorded: dict[str, dict[str, Any] | None] | None = None,
) -> Explanation:
    """Score, decide and align documents ``a`` and ``b`` under ``config``."""
    ta, tb = key_tokens(a.cleaned, config.shingles), key_tokens(b.cleaned, config.shingles)
    scores, pair = score(ta, tb, config.shingle_size, config.char_shingle_size)
    alignment = align_tokens(ta, tb, config.shingle_size, config.char_shingle_size)
    return Explanation(
        a,
        b,
        len(ta),
        len(tb),
        scores,
        _decide(a, b, scores, pair, config),
        alignment.a,
        alignment.b,
        config,
        recorded,
        (
            not (_chars(ta).all() and _chars(tb).all()),
            ta.chars is not None or tb.chars is not None,
        ),
    )


def _decide(
    a: Document, b: Document, s: Scores, pair: PairScores, config: DedupConfig
) -> PairOutcome:
    """What dedup does with this pair once verified: ``cluster.decide`` on the pair itself."""
    jt, ct = config.jaccard_threshold, config.containment_threshold
    docs = (a, b)
    rank = policy_rank(config.keep_policy, np.array([len(a.cleaned), len(b.cleaned)]), [a.id, b.id])
    first, second = (0, 1) if rank[0] < rank[1] else (1, 0)
    preference = _preference(docs[first], docs[second], config.keep_policy)
    name = ("A", "B")
    if not (s.shingles_a and s.shingles_b):
        empty = name[0] if not s.shingles_a else name[1]
        return PairOutcome(None, None, None, f"{empty} has no words to match on: both stay.")
    if s.exact:
        loser, keeper = docs[second], docs[first]
        why = (
            f"Identical after normalisation (same matching key): {name[second]} is an exact copy "
            f"and goes; {name[first]} stays ({preference})."
        )
        return PairOutcome(loser.id, keeper.id, "exact", why)
    rule = CopyRule.of(config)
    rejected = rule.pair_rejections(
        pair, lambda _: {0: a.cleaned, 1: b.cleaned}, np.array([rank[0] < rank[1]])
    )
    found = decide(pair, rank, rule, rejected)
    c = (s.containment_a_in_b, s.containment_b_in_a)
    # The direction the text check decided, if it was in the grey zone.
    x = found[0].doc if found else second
    check = None
    if rule.borderline(np.array([s.jaccard]), np.array([c[x]]))[0]:
        alignment = rule.alignment(docs[x].cleaned, docs[1 - x].cleaned)
        check = TextCheck(x, 1 - x, alignment, config.min_sentence_coverage)
    if found:
        d = found[0]
        if d.reason == "near":
            why = (
                f"Jaccard {s.jaccard:.3f} ≥ {jt}: near-duplicates, so one goes: "
                f"{name[d.doc]}; {name[d.original]} stays ({preference})."
            )
        else:
            why = (
                f"Jaccard {s.jaccard:.3f} < {jt}, but {c[d.doc]:.1%} of {name[d.doc]}'s shingles "
                f"are in {name[d.original]} (≥ {ct:.0%}): {name[d.doc]} is contained and goes; "
                f"{name[d.original]} stays."
            )
        if check is not None:
            why += (
                f" Below containment {config.certain_containment} the text is checked: "
                f"{check.alignment.coverage:.0%} of {name[d.doc]}'s sentence text is in "
                f"{name[d.original]}, exactly or lightly edited (≥ "
                f"{config.min_sentence_coverage:.0%})."
            )
        if check is None:  # decided on the scores alone: the sentences, for the reader
            alignment = rule.alignment(docs[d.doc].cleaned, docs[d.original].cleaned)
            check = TextCheck(d.doc, d.original, alignment, config.min_sentence_coverage, False)
        return PairOutcome(docs[d.doc].id, docs[d.original].id, d.reason, why, check)
    if rejected:
        x, y = min(rejected)
        share = rule.text_coverage(docs[x].cleaned, docs[y].cleaned)
        why = (
            f"{name[x]} reaches a threshold against {name[y]} (Jaccard {s.jaccard:.3f}, "
            f"containment {c[x]:.1%}), but only {share:.0%} of its sentence text is in "
            f"{name[y]} (< {config.min_sentence_coverage:.0%}, checked below containment "
            f"{config.certain_containment}): partial reuse, not a copy; both stay."
        )
    elif c[first] >= ct:
        why = (
            f"{name[first]} is contained in {name[second]} ({c[first]:.1%} ≥ {ct:.0%}), but the "
            f"keep policy prefers {name[first]} ({preference}) and only the contained side may "
            "go: both stay."
        )
    else:
        why = (
            f"Jaccard {s.jaccard:.3f} < {jt} and containment {c[0]:.1%} (A in B) / {c[1]:.1%} "
            f"(B in A) < {ct:.0%}: not copies, both stay."
        )
    return PairOutcome(None, None, None, why, check)


def _preference(first: Document, second: Document, policy: str) -> str:
    if policy == "longest":
        if len(first.cleaned) == len(second.cleaned):
            return "keep longest: equal length, smaller id"
        longer, shorter = number(len(first.cleaned)), count(len(second.cleaned), "character")
        return f"keep longest: {longer} vs {shorter}"
    if policy == "first":
        return "keep first: earlier in the input"
    return "keep id: smaller id"


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Chance that LSH with ``bands`` × ``rows`` proposes a pair of this Jaccard."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


# ------------------------------------------------------------------------------- the texts


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of one line: ``shared`` with the other text, ``only`` here, ``plain`` (spaces and
    punctuation between the two), or a ``boilerplate`` line cleaning removed (``rule``)."""

    kind: str
    text: str
    rule: str | None = None


def lines(doc: Document, side: Side) -> list[list[Piece]]:
    """The document as displayed: input lines in order, kept lines cut at the alignment's
    spans, removed lines whole as boilerplate; runs of blank lines shown as one."""
    removed = {r.line: r for r in doc.removed}
    marks = sorted(
        [(s, e, "shared") for s, e in side.shared] + [(s, e, "only") for s, e in side.only]
    )
    marked = _Marker(doc.cleaned, marks)
    out: list[list[Piece]] = []
    blank = False
    for i, line in enumerate(doc.text.split("\n")):
        body = line.strip()
        if i in removed:
            out.append([Piece("boilerplate", body, removed[i].rule)])
        elif not body:
            blank = bool(out)
        else:
            if blank:
                out.append([])
                blank = False
            out.append(marked.line(body))
    return out


class _Marker:
    """Cuts kept lines, found in order in the cleaned text, at the alignment's spans."""

    def __init__(self, cleaned: str, marks: list[tuple[int, int, str]]) -> None:
        self.cleaned = cleaned
        self.marks = marks
        self.pos = 0  # where the next kept line is searched in the cleaned text
        self.next = 0  # first mark that may still overlap what follows

    def line(self, body: str) -> list[Piece]:
        start = self.cleaned.find(body, self.pos)
        if start < 0:  # cannot happen for a cleaner's output; show the line unmarked
            return [Piece("plain", body)]
        end = start + len(body)
        self.pos = end
        return list(self._pieces(start, end))

    def _pieces(self, start: int, end: int) -> Iterator[Piece]:
        while self.next < len(self.marks) and self.marks[self.next][1] <= start:
            self.next += 1
        at = start
        for s, e, kind in self.marks[self.next :]:
            if s >= end:
                break
            s, e = max(s, start), min(e, end)
            if s > at:
                yield Piece("plain", self.cleaned[at:s])
            yield Piece(kind, self.cleaned[s:e])
            at = e
        if at < end:
            yield Piece("plain", self.cleaned[at:end])


# ------------------------------------------------------------------------------- rendering


def to_json(x: Explanation) -> dict[str, Any]:
    """The explanation as the documented JSON object (see the module docstring)."""
    s, c = x.scores, x.config
    return {
        "schema": SCHEMA,
        "a": _doc_json(x.a, x.side_a, x.tokens_a, s.shingles_a),
        "b": _doc_json(x.b, x.side_b, x.tokens_b, s.shingles_b),
        "scores": {
            "jaccard": s.jaccard,
            "containment_a_in_b": s.containment_a_in_b,
            "containment_b_in_a": s.containment_b_in_a,
            "shared_shingles": s.shared_shingles,
            "exact": s.exact,
            "candidate_probability": candidate_probability(s.jaccard, c.bands, c.rows),
        },
        "settings": {
            "shingle_size": c.shingle_size,
            "shingles": c.shingles,
            "char_shingle_size": c.char_shingle_size,
            "jaccard_threshold": c.jaccard_threshold,
            "containment_threshold": c.containment_threshold,
            "certain_containment": c.certain_containment,
            "min_sentence_coverage": c.min_sentence_coverage,
            "keep_policy": c.keep_policy,
            "bands": c.bands,
            "rows": c.rows,
            "clean": c.clean,
        },
        "decision": {
            "removed": x.decision.removed,
            "duplicate_of": x.decision.duplicate_of,
            "reason": x.decision.reason,
            "why": x.decision.why,
        },
        "recorded": x.recorded,
        "alignment": _alignment_json(x.decision.text_check),
    }


def word_diff(old: str, new: str, key: Callable[[str], str] | None = None) -> list[tuple[str, str]]:
    """The edit between two texts, word by word: runs of ``("equal", words)``, ``("removed",
    words only in old)`` and ``("added", words only in new)``, in order. ``key``: compare words
    by it (``matching_key``: case, tone style and punctuation are no edit), show them as written
    (an equal run shows new's words)."""
    a, b = old.split(), new.split()
    ka, kb = (a, b) if key is None else ([key(w) for w in a], [key(w) for w in b])
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("equal", " ".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("added", " ".join(b[j1:j2])))
    return out


def word_edit(old: str, new: str) -> str:
    """``word_diff`` as text: ``[-removed-]`` and ``{+added+}``."""
    marks = {"equal": ("", ""), "removed": ("[-", "-]"), "added": ("{+", "+}")}
    return " ".join(marks[op][0] + words + marks[op][1] for op, words in word_diff(old, new))


@dataclass(frozen=True, slots=True)
class SentenceView:
    """One sentence of the copy as people read it: ``text`` as written, and for an edited one
    ``edit``, the ``word_diff`` from the original's sentence(s) it aligned to (words compared
    on their matching key)."""

    status: str
    similarity: float
    text: str
    edit: list[tuple[str, str]] | None = None


def sentence_views(check: TextCheck, copy: str, original: str) -> list[SentenceView]:
    """``check``'s sentences in the texts' own spelling: ``copy`` and ``original`` are the two
    cleaned texts it aligned (the alignment itself compares matching keys)."""
    xs, ys = sentence_texts(copy), sentence_texts(original)
    views = []
    for m in check.alignment.sentences:
        edit = None
        if m.status == "edited" and m.y_first >= 0:
            target = " ".join(ys[m.y_first : m.y_last + 1])
            edit = word_diff(target, xs[m.index], key=matching_key)
        views.append(SentenceView(m.status, m.similarity, xs[m.index], edit))
    return views


def _alignment_json(check: TextCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    al = check.alignment
    return {
        "copy": "ab"[check.copy],
        "original": "ab"[check.original],
        "coverage": al.coverage,
        "exact": al.exact,
        "contained": al.contained,
        "edited": al.edited,
        "required": check.required,
        "decisive": check.decisive,
        "sentences": [
            {
                "index": m.index,
                "status": m.status,
                "text": m.key,
                "similarity": m.similarity,
                "target": m.target,
                "edit": word_edit(m.target, m.key) if m.status == "edited" and m.target else None,
            }
            for m in al.sentences
        ],
    }


def _doc_json(doc: Document, side: Side, tokens: int, shingles: int) -> dict[str, Any]:
    return {
        "id": doc.id,
        "where": doc.where,
        "text": doc.cleaned,
        "key_tokens": tokens,
        "shingles": shingles,
        "shared": [list(span) for span in side.shared],
        "only": [list(span) for span in side.only],
        "boilerplate": [{"line": r.line + 1, "text": r.text, "rule": r.rule} for r in doc.removed],
    }


_PLAIN_MARKS = {
    "shared": ("[=", "=]"),
    "only": ("{+", "+}"),
    "boilerplate": ("[-", "-]"),
    "was": ("[-", "-]"),
    "now": ("{+", "+}"),
}
_STYLES: dict[str, dict[str, Any]] = {
    "shared": {"fg": "green"},
    "only": {"fg": "yellow", "bold": True},
    "boilerplate": {"fg": "red", "dim": True, "strikethrough": True},
    "was": {"fg": "red", "strikethrough": True},  # an edited sentence: the original's words
    "now": {"fg": "green", "bold": True},  # ... and the copy's
}
_EDIT_MARKS = {"equal": "plain", "removed": "was", "added": "now"}


def _grams(x: Explanation) -> str:
    """What the shingles were: word n-grams, character n-grams, or both."""
    words, chars = x.units
    kinds = [f"word {x.config.shingle_size}-grams"] if words else []
    kinds += [f"character {x.config.char_shingle_size}-grams"] if chars else []
    return " and ".join(kinds)


def render(x: Explanation, color: bool) -> str:
    """The explanation for a terminal: coloured marks, or ``[=…=]`` ``{+…+}`` ``[-…-]`` marks
    when ``color`` is off (piped output stays readable and greppable)."""
    s, c, d = x.scores, x.config, x.decision

    def mark(kind: str, text: str) -> str:
        if kind == "plain" or not text:
            return text
        if color:
            return click.style(text, **_STYLES[kind])
        left, right = _PLAIN_MARKS[kind]
        return f"{left}{text}{right}"

    def bold(text: str) -> str:
        return click.style(text, bold=True) if color else text

    out = [
        f"A  {x.a.id}  ({x.a.where}; {count(len(x.a.cleaned), 'character')}, "
        f"{count(len(x.a.removed), 'boilerplate line')})",
        f"B  {x.b.id}  ({x.b.where}; {count(len(x.b.cleaned), 'character')}, "
        f"{count(len(x.b.removed), 'boilerplate line')})",
        "",
        f"  Jaccard              {s.jaccard:.3f}   near-duplicates at ≥ {c.jaccard_threshold}",
        f"  containment A in B   {s.containment_a_in_b:.3f}   contained at ≥ "
        f"{c.containment_threshold}",
        f"  containment B in A   {s.containment_b_in_a:.3f}",
        f"  shared shingles      {number(s.shared_shingles)} of {number(s.shingles_a)} (A) and "
        f"{number(s.shingles_b)} (B), {_grams(x)}",
        f"  LSH would propose it with probability "
        f"{candidate_probability(s.jaccard, c.bands, c.rows):.3f} ({c.bands} × {c.rows})",
        "",
    ]
    if d.removed is None:
        out.append(bold("Decision: both stay."))
    else:
        which = "A" if d.removed == x.a.id else "B"
        out.append(bold(f"Decision: remove {which} ({d.reason} copy of {d.duplicate_of})."))
    out.append(f"  {d.why}")
    check = d.text_check
    if check is not None:
        al, names = check.alignment, "AB"
        needs = (
            f"a copy needs {check.required:.0%}"
            if check.decisive
            else f"not needed: containment ≥ {c.certain_containment} decides on the scores"
        )
        out.append(
            f"  {'Text check' if check.decisive else 'Sentences'} ({names[check.copy]} in "
            f"{names[check.original]}): {al.coverage:.0%} of {names[check.copy]}'s sentence "
            f"text reproduced (exact {al.exact:.0%}, verbatim inside a sentence "
            f"{al.contained:.0%}, lightly edited {al.edited:.0%}); {needs}."
        )
        docs = (x.a, x.b)
        views = sentence_views(check, docs[check.copy].cleaned, docs[check.original].cleaned)
        for v in views:
            if v.edit is not None:
                edit = " ".join(mark(_EDIT_MARKS[op], words) for op, words in v.edit)
                out.append(f"    ~ {v.similarity:.0%}  {edit}")
            elif v.status == "unmatched":
                out.append(f"    ✗ {v.text}")
    if x.recorded is not None:
        for which in ("A", "B"):
            out.append(f"  In the dedup output, {which} {_recorded(x.recorded[which.lower()])}.")
        note = _kept_anyway(x)
        if note:
            out.append(f"  {note}")
    legend = " ".join(
        mark(kind, label)
        for kind, label in (
            ("shared", "shared with the other text"),
            ("only", "only in this text"),
            ("boilerplate", "removed as boilerplate"),
        )
    )
    for which, doc, side in (("A", x.a, x.side_a), ("B", x.b, x.side_b)):
        out += ["", bold(f"── {which}: {doc.id} ──") + "   " + legend]
        for pieces in lines(doc, side):
            text = "".join(mark(p.kind, p.text) for p in pieces)
            rule = pieces[0].rule if pieces and pieces[0].kind == "boilerplate" else None
            out.append(f"{text}  ({rule})" if rule else text)
    return "\n".join(out)


def _kept_anyway(x: Explanation) -> str | None:
    """Why the run kept a document this pair alone would remove, when it did and the original
    stayed too (``core.decide`` chooses the kept set per group of copies, not pair by pair)."""
    assert x.recorded is not None
    d = x.decision
    if d.removed is None:
        return None
    which = "a" if d.removed == x.a.id else "b"
    removed, original = x.recorded[which], x.recorded["b" if which == "a" else "a"]
    if (removed is None or removed["kept"]) and (original is None or original["kept"]):
        name = which.upper()
        return (
            f"The run kept {name} all the same: among the kept sets that remove the most "
            f"documents of this group of copies, the one that keeps {name} holds the most "
            "verified copies in one cluster (its own copies go for it); every removal is "
            "still a direct copy of its original."
        )
    return None


def _recorded(row: dict[str, Any] | None) -> str:
    if row is None:
        return "is in no cluster (kept, no copy found)"
    if row["kept"]:
        return "is kept, the original of its cluster"
    return (
        f"was removed as a {row['reason']} copy of {row['duplicate_of']} "
        f"(Jaccard {row['jaccard']:.3f}, containment {row['containment']:.3f})"
    )
