"""Lightly revised copies, English beside Vietnamese: are they found alike?

Real English articles (the gold bodies of ../shared/data/article_extraction_benchmark) and as
many real Vietnamese ones (VNTC, the same length range) each get one revised copy: in every
sentence, with probability ``--p``, ``k`` word edits (a word replaced by another word of the
same article, a word dropped, a word inserted, two neighbours swapped), figures left alone;
and the last paragraph dropped from a third of them. The revised copy of an article is a copy
of it; every other pair is not (the articles are distinct stories). tinlap runs once per
language and edit level on originals + revisions; recall = revised copies in their article's
cluster, precision = removals whose original is the same article.

    .venv/bin/python benchmarks/accuracy/revised.py                     # k = 1, 2, 3
    .venv/bin/python benchmarks/accuracy/revised.py --edits 2 --p 1.0

The generator shares nothing with tinlap (it edits raw text; tinlap sees only the result).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import zstandard

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"
SENTENCE = re.compile(r"(?<=[.!?])\s+")
WORD = re.compile(r"\S+")
DIGIT = re.compile(r"\d")


def english(limit: int) -> list[str]:
    truth = json.loads((DATA / "article_extraction_benchmark" / "ground-truth.json").read_text())
    bodies = sorted(v["articleBody"] for v in truth.values())
    return [b for b in bodies if 800 <= len(b) <= 12000][:limit]


def vietnamese(limit: int, lengths: list[int]) -> list[str]:
    """VNTC articles matching the English length distribution (one per English length)."""
    wanted = sorted(lengths)
    found: list[str] = []
    with (DATA / "vntc.jsonl.zst").open("rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw)
        for line in io.TextIOWrapper(reader, encoding="utf-8"):
            text = orjson.loads(line)["text"]
            if wanted and abs(len(text) - wanted[0]) <= 0.2 * wanted[0]:
                found.append(text)
                wanted.pop(0)
            if len(found) >= limit or not wanted:
                break
    return found


def revise(text: str, rng: random.Random, edits: int, p: float) -> str:
    """``edits`` word edits in a share ``p`` of the sentences; figures untouched."""
    vocab = [w for w in WORD.findall(text) if not DIGIT.search(w)]
    paragraphs = text.split("\n")
    if len(paragraphs) > 3 and rng.random() < 1 / 3:
        paragraphs = paragraphs[:-1]
    out = []
    for paragraph in paragraphs:
        sentences = []
        for sentence in SENTENCE.split(paragraph):
            words = sentence.split(" ")
            if len(words) >= 6 and rng.random() < p:
                for _ in range(edits):
                    i = rng.randrange(1, len(words) - 1)
                    if DIGIT.search(words[i]):
                        continue
                    op = rng.choice(("replace", "drop", "insert", "swap"))
                    if op == "replace":
                        words[i] = rng.choice(vocab)
                    elif op == "drop" and len(words) > 6:
                        del words[i]
                    elif op == "insert":
                        words.insert(i, rng.choice(vocab))
                    elif not DIGIT.search(words[i + 1]):
                        words[i], words[i + 1] = words[i + 1], words[i]
            sentences.append(" ".join(words))
        out.append(" ".join(sentences))
    return "\n".join(out)


def measure(texts: list[str], lang: str, edits: int, p: float, tinlap: str) -> dict[str, float]:
    rng = random.Random(f"{lang}-{edits}-{p}")
    rows = []
    for n, text in enumerate(texts):
        rows.append({"id": f"{lang}-{n}", "text": text})
        rows.append({"id": f"{lang}-{n}-rev", "text": revise(text, rng, edits, p)})
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "docs.jsonl"
        src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
        out = Path(tmp) / "out"
        cmd = [tinlap, "dedup", str(src), "-o", str(out), "-q", "--engine", "in-memory"]
        subprocess.run(cmd, check=True)
        clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    cluster_of = {r["id"]: r["cluster_id"] for r in clusters}
    found = sum(
        cluster_of.get(f"{lang}-{n}", "a") == cluster_of.get(f"{lang}-{n}-rev", "b")
        for n in range(len(texts))
    )
    edges = [(r["id"], r["duplicate_of"]) for r in clusters if r.get("duplicate_of")]
    right = sum(a.removesuffix("-rev") == b.removesuffix("-rev") for a, b in edges)
    return {
        "docs": len(texts),
        "recall": found / len(texts),
        "precision": right / len(edges) if edges else 1.0,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--edits", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--p", type=float, default=0.7, help="share of sentences edited")
    ap.add_argument("--limit", type=int, default=150)
    ap.add_argument("--tinlap", default=str(REPO / ".venv" / "bin" / "tinlap"))
    args = ap.parse_args(argv)
    en = english(args.limit)
    vi = vietnamese(len(en), [len(t) for t in en])
    print(f"| edits per edited sentence (p={args.p}) | language | articles | recall | precision |")
    print("|---:|---|---:|---:|---:|")
    for k in args.edits:
        for lang, texts in (("en", en), ("vi", vi)):
            r = measure(texts, lang, k, args.p, args.tinlap)
            print(
                f"| {k} | {lang} | {r['docs']} | {r['recall']:.3f} | {r['precision']:.3f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
