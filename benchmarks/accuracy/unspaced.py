"""Languages written without spaces: which character n finds copies and keeps strangers apart?

Generated news-like texts in Chinese, Japanese, Thai, Lao, Khmer and Myanmar (no corpus of
these languages ships with the project): a seeded Zipfian vocabulary of words built from each
script's characters (Han words of 1-4 characters drawn by a Zipfian character frequency;
Japanese kanji compounds with okurigana, katakana loanwords and frequent particles; Thai, Lao,
Khmer and Myanmar syllables from consonants, vowel signs, tone marks and finals), topics that
share a sub-vocabulary (so unrelated articles on one topic share more than chance), sentences
with the script's own punctuation and spacing. Each base article gets one copy at one of four
edit levels (``LEVELS``: per 40 characters, about a sentence, with probability p, k characters
substituted, inserted or deleted; from 1 character in 200 to 1 in 10) and, for half of them,
a paragraph added and, for a third, one dropped. Every other pair is unrelated.

For each n (``--char-shingle-size``) and script it reports: the copies' containment (the
larger of the two directions; mean and 5th percentile, per level), the largest Jaccard and
containment over 20,000 sampled unrelated pairs (what the thresholds must stay above), and
``tinlap.dedup``'s recall (copies removed for their base, or the base for its copy) and
precision (removals whose ``duplicate_of`` is their own base or copy) with the default
thresholds, and its time.

    .venv/bin/python benchmarks/accuracy/unspaced.py                  # n = 2..8, all scripts
    .venv/bin/python benchmarks/accuracy/unspaced.py --sizes 3 5 --scripts zh th --bases 200
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import tinlap
from tinlap.config import DedupConfig
from tinlap.core.batch import sketch_records
from tinlap.core.verify import score_sets
from tinlap.records import Record

# Per stretch of 40 characters (about a sentence): probability p of k character edits.
LEVELS = {"light": (0.2, 1), "medium": (0.5, 1), "heavy": (1.0, 2), "rewritten": (1.0, 4)}


def _zipf(size: int, s: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** s
    return weights / weights.sum()


def _chars(ranges: list[tuple[int, int]]) -> list[str]:
    return [chr(c) for lo, hi in ranges for c in range(lo, hi + 1)]


@dataclass
class Script:
    """How one script's words and sentences are made."""

    name: str
    word: Callable[[np.random.Generator], str]  # a new vocabulary word
    joiner: str  # between words of a phrase
    phrase_sep: str  # between phrases of a sentence
    sentence_end: str
    edit_chars: list[str]  # characters an edit inserts or substitutes


def _han(rng: np.random.Generator) -> Script:
    pool = rng.permutation(_chars([(0x4E00, 0x9FA5)]))[:3500].tolist()
    freq = _zipf(len(pool), 1.1)

    def word(r: np.random.Generator) -> str:
        length = int(r.choice([1, 2, 3, 4], p=[0.25, 0.6, 0.1, 0.05]))
        return "".join(r.choice(pool, size=length, p=freq))

    return Script("zh", word, "", "，", "。", pool[:1500])


def _japanese(rng: np.random.Generator) -> Script:
    kanji = rng.permutation(_chars([(0x4E00, 0x9FA5)]))[:2000].tolist()
    kfreq = _zipf(len(kanji), 1.1)
    hira = _chars([(0x3041, 0x3093)])
    kata = [*_chars([(0x30A1, 0x30F3)]), "ー"]
    particles = ["の", "は", "が", "を", "に", "で", "と", "も", "から", "まで", "へ", "や"]

    def word(r: np.random.Generator) -> str:
        kind = r.random()
        if kind < 0.6:
            stem = "".join(r.choice(kanji, size=int(r.integers(1, 4)), p=kfreq))
            tail = "".join(r.choice(hira, size=int(r.integers(0, 3))))
            return stem + tail + str(r.choice(particles))
        if kind < 0.8:
            return "".join(r.choice(kata, size=int(r.integers(2, 7)))) + str(r.choice(particles))
        return "".join(r.choice(hira, size=int(r.integers(1, 4))))

    return Script("ja", word, "", "、", "。", kanji[:800] + hira)


def _abugida(
    name: str,
    consonants: list[str],
    lead: list[str],
    signs: list[str],
    tones: list[str],
    follow: list[str],
    finals: list[str],
    phrase_sep: str,
    sentence_end: str,
) -> Callable[[np.random.Generator], Script]:
    def make(rng: np.random.Generator) -> Script:
        cfreq = _zipf(len(consonants), 0.8)

        def syllable(r: np.random.Generator) -> str:
            parts = []
            if lead and r.random() < 0.2:
                parts.append(str(r.choice(lead)))
            parts.append(str(r.choice(consonants, p=cfreq)))
            if signs and r.random() < 0.5:
                parts.append(str(r.choice(signs)))
            if tones and r.random() < 0.35:
                parts.append(str(r.choice(tones)))
            if follow and r.random() < 0.3:
                parts.append(str(r.choice(follow)))
            if finals and r.random() < 0.5:
                parts.append(str(r.choice(finals)))
            return "".join(parts)

        def word(r: np.random.Generator) -> str:
            return "".join(
                syllable(r) for _ in range(int(r.choice([1, 2, 3], p=[0.4, 0.45, 0.15])))
            )

        return Script(name, word, "", phrase_sep, sentence_end, consonants)

    return make


_THAI = _abugida(
    "th",
    _chars([(0x0E01, 0x0E2E)]),
    _chars([(0x0E40, 0x0E44)]),
    ["\u0e31", "\u0e34", "\u0e35", "\u0e36", "\u0e37", "\u0e38", "\u0e39"],
    _chars([(0x0E48, 0x0E4B)]),
    ["\u0e32", "\u0e30", "\u0e33"],
    ["\u0e01", "\u0e14", "\u0e1a", "\u0e07", "\u0e19", "\u0e21", "\u0e22", "\u0e27"],
    " ",
    " ",
)
_LAO = _abugida(
    "lo",
    [
        chr(c)
        for c in (
            0x0E81,
            0x0E82,
            0x0E84,
            0x0E87,
            0x0E88,
            0x0E8A,
            0x0E8D,
            0x0E94,
            0x0E95,
            0x0E96,
            0x0E97,
            0x0E99,
            0x0E9A,
            0x0E9B,
            0x0E9C,
            0x0E9D,
            0x0E9E,
            0x0E9F,
            0x0EA1,
            0x0EA2,
            0x0EA3,
            0x0EA5,
            0x0EA7,
            0x0EAA,
            0x0EAB,
            0x0EAD,
            0x0EAE,
        )
    ],
    _chars([(0x0EC0, 0x0EC4)]),
    ["\u0eb1", "\u0eb4", "\u0eb5", "\u0eb6", "\u0eb7", "\u0eb8", "\u0eb9"],
    _chars([(0x0EC8, 0x0ECB)]),
    ["\u0eb2", "\u0eb0"],
    ["\u0e81", "\u0e94", "\u0e9a", "\u0e87", "\u0e99", "\u0ea1", "\u0e8d", "\u0ea7"],
    " ",
    " ",
)
_KHMER = _abugida(
    "km",
    _chars([(0x1780, 0x17A2)]),
    [],
    _chars([(0x17B6, 0x17C5)]),
    ["\u17c6", "\u17c7"],
    [],
    ["\u17d2\u1780", "\u17d2\u178f", "\u17d2\u1798", "\u17d2\u179a"],
    " ",
    "\u17d4",
)
_MYANMAR = _abugida(
    "my",
    _chars([(0x1000, 0x1021)]),
    [],
    _chars([(0x102B, 0x1032)]),
    ["\u1037", "\u1038"],
    ["\u103b", "\u103c", "\u103d"],
    ["\u1004\u103a", "\u1014\u103a", "\u1010\u103a", "\u1019\u103a"],
    "\u104a",
    "\u104b",
)
SCRIPTS: dict[str, Callable[[np.random.Generator], Script]] = {
    "zh": _han,
    "ja": _japanese,
    "th": _THAI,
    "lo": _LAO,
    "km": _KHMER,
    "my": _MYANMAR,
}


class Writer:
    """Articles of one script: a Zipfian vocabulary and topics sharing sub-vocabularies."""

    def __init__(self, script: Script, rng: np.random.Generator, vocab: int = 20_000) -> None:
        self.script, self.rng = script, rng
        self.vocab = list(dict.fromkeys(script.word(rng) for _ in range(vocab)))
        self.freq = _zipf(len(self.vocab), 1.0)
        self.topics = [rng.choice(len(self.vocab), size=400, replace=False) for _ in range(8)]

    def word(self, topic: int) -> str:
        if self.rng.random() < 0.3:
            return self.vocab[int(self.rng.choice(self.topics[topic]))]
        return self.vocab[int(self.rng.choice(len(self.vocab), p=self.freq))]

    def sentence(self, topic: int) -> str:
        s, r = self.script, self.rng
        phrases = [
            s.joiner.join(self.word(topic) for _ in range(int(r.integers(3, 9))))
            for _ in range(int(r.integers(1, 4)))
        ]
        return s.phrase_sep.join(phrases) + s.sentence_end

    def paragraph(self, topic: int) -> str:
        return "".join(self.sentence(topic) for _ in range(int(self.rng.integers(2, 5)))).strip()

    def article(self, topic: int) -> list[str]:
        return [self.paragraph(topic) for _ in range(int(self.rng.integers(3, 7)))]

    def edit(self, paragraphs: list[str], level: str, topic: int) -> list[str]:
        """A copy: per sentence-sized stretch, with probability p, k character edits."""
        p, k = LEVELS[level]
        r, out = self.rng, []
        for para in paragraphs:
            chars = list(para)
            for start in range(0, len(chars), 40):  # ~ one sentence
                if r.random() >= p:
                    continue
                for _ in range(k):
                    at = start + int(r.integers(0, 40))
                    if at >= len(chars):
                        continue
                    op = r.random()
                    new = str(r.choice(self.script.edit_chars))
                    if op < 0.4:
                        chars[at] = new
                    elif op < 0.7:
                        chars.insert(at, new)
                    else:
                        del chars[at]
            out.append("".join(chars))
        if r.random() < 0.5:
            out.append(self.paragraph(topic))
        if len(out) > 3 and r.random() < 0.33:
            del out[-2]
        return out


def corpus(name: str, bases: int, seed: int) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Base articles and one copy of each; ``truth``: copy id -> base id."""
    rng = np.random.default_rng(seed)
    writer = Writer(SCRIPTS[name](rng), rng)
    docs, truth = [], {}
    levels = list(LEVELS)
    for i in range(bases):
        topic = i % len(writer.topics)
        base = writer.article(topic)
        level = levels[i % len(levels)]
        copy = writer.edit(base, level, topic)
        docs.append({"id": f"b{i}", "text": "\n".join(base)})
        docs.append({"id": f"c{i}-{level}", "text": "\n".join(copy)})
        truth[f"c{i}-{level}"] = f"b{i}"
    return docs, truth


def measure(name: str, n: int, docs: list[dict[str, str]], truth: dict[str, str]) -> dict:
    config = DedupConfig(char_shingle_size=n, clean=False, learn_boilerplate=False)
    records = [Record(d["id"], d["text"], "") for d in docs]
    sets = sketch_records(records, config).shingles
    index = {d["id"]: i for i, d in enumerate(docs)}
    contained: dict[str, list[float]] = {level: [] for level in LEVELS}
    for copy, base in truth.items():
        _, c_copy, c_base = score_sets(sets.of(index[copy]), sets.of(index[base]))
        contained[copy.split("-")[1]].append(max(c_copy, c_base))
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(docs), size=(20_000, 2))
    related = {(index[c], index[b]) for c, b in truth.items()}
    related |= {(b, c) for c, b in related}
    worst_j = worst_c = 0.0
    for a, b in pairs.tolist():
        if a == b or (a, b) in related:
            continue
        j, ca, cb = score_sets(sets.of(a), sets.of(b))
        worst_j, worst_c = max(worst_j, j), max(worst_c, ca, cb)
    start = time.perf_counter()
    result = tinlap.dedup(docs, char_shingle_size=n, no_clean=True, no_learn=True)
    seconds = time.perf_counter() - start
    rows = result.clusters.to_pylist()
    removed = {r["id"]: r["duplicate_of"] for r in rows if not r["kept"]}
    found = {level: 0 for level in LEVELS}
    for copy, base in truth.items():
        if removed.get(copy) == base or removed.get(base) == copy:
            found[copy.split("-")[1]] += 1
    right = sum(truth.get(x) == y or truth.get(y) == x for x, y in removed.items())
    per_level = len(truth) / len(LEVELS)
    return {
        "script": name,
        "n": n,
        "containment": {
            lv: (float(np.mean(v)), float(np.percentile(v, 5))) for lv, v in contained.items()
        },
        "unrelated_max_jaccard": worst_j,
        "unrelated_max_containment": worst_c,
        "recall": {lv: found[lv] / per_level for lv in LEVELS},
        "precision": right / len(removed) if removed else 1.0,
        "seconds": seconds,
        "shingles_per_doc": float(sets.sizes.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4, 5, 6, 8])
    parser.add_argument("--scripts", nargs="+", default=list(SCRIPTS), choices=list(SCRIPTS))
    parser.add_argument("--bases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    print(
        f"| script | n | copy containment {' / '.join(LEVELS)} (mean, p5) | unrelated max J / C "
        f"| recall {' / '.join(LEVELS)} | precision | shingles/doc | dedup s |"
    )
    print("|---|---:|---|---|---|---:|---:|---:|")
    for name in args.scripts:
        docs, truth = corpus(name, args.bases, args.seed)
        for n in args.sizes:
            m = measure(name, n, docs, truth)
            cont = " / ".join(f"{a:.2f}, {b:.2f}" for a, b in m["containment"].values())
            rec = " / ".join(f"{v:.3f}" for v in m["recall"].values())
            print(
                f"| {name} | {n} | {cont} | {m['unrelated_max_jaccard']:.3f} / "
                f"{m['unrelated_max_containment']:.3f} | {rec} | {m['precision']:.3f} | "
                f"{m['shingles_per_doc']:.0f} | {m['seconds']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
