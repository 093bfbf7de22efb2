"""Lines removed by cleaning on real corpora, in process: per rule, with a sample of each.

    .venv/bin/python benchmarks/cleaning/real_lines.py ../shared/data/baomoi-dev/docs.jsonl.zst
    .venv/bin/python benchmarks/cleaning/real_lines.py ../shared/data/vntc.jsonl.zst --limit 20000

Runs exactly what ``tinlap clean`` runs per document (``repair_text``, the learned model over
the whole input with each record's ``source_of``, the default rules), counts non-blank lines
and lines removed by each rule, CPU per document for repair and for cleaning, and writes a
sample of removed lines per rule (``--sample`` each, seeded) to ``--out`` as TSV for reading.
On corpora that hold article text only (vlsp-dev, baomoi-dev: extracted articles), every
removed line is a candidate loss: read the sample.
"""

from __future__ import annotations

import argparse
import io
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import zstandard

from tinlap.core.chrome import doc_lines, learn, source_of
from tinlap.core.clean import Cleaner
from tinlap.core.normalise import repair_text
from tinlap.records import Record


def read(path: Path, limit: int | None) -> list[Record]:
    out: list[Record] = []
    with path.open("rb") as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw) if path.suffix == ".zst" else raw
        for n, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8")):
            if limit is not None and n >= limit:
                break
            rec = orjson.loads(line)
            fields = {k: v for k, v in rec.items() if k != "text"}
            out.append(Record(str(rec.get("id", n)), rec["text"], str(path), n + 1, fields))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", type=Path)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--source-field", default=None)
    p.add_argument("--no-learn", action="store_true")
    p.add_argument("--sample", type=int, default=30)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--out", type=Path, default=None, help="TSV of sampled removed lines")
    args = p.parse_args()

    records = read(args.corpus, args.limit)
    t0 = time.process_time()
    texts = [repair_text(r.text) for r in records]
    t_repair = time.process_time() - t0
    sources = [source_of(r, args.source_field) for r in records]
    model = None
    if not args.no_learn:
        model = learn(
            doc_lines(texts[i : i + 2000], sources[i : i + 2000])
            for i in range(0, len(texts), 2000)
        )
    cleaner = Cleaner()
    lines = 0
    by_rule: Counter[str] = Counter()
    removed: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    t0 = time.process_time()
    for rec, text, source in zip(records, texts, sources, strict=True):
        extra = (model.rule_for(source),) if model else ()
        result = cleaner.clean(text, extra)
        lines += sum(1 for s in text.split("\n") if s.strip())
        for r in result.removed:
            if r.text.strip():
                by_rule[r.rule] += 1
                removed[r.rule].append((rec.id, r.line + 1, r.text.strip()))
    t_clean = time.process_time() - t0
    n = len(records)
    print(f"{args.corpus.name}: {n} documents, {lines} non-blank lines")
    print(f"repair_text {1e6 * t_repair / n:.1f} us/doc, clean {1e6 * t_clean / n:.1f} us/doc")
    if model is not None:
        print("model:", model.summary())
    total = sum(by_rule.values())
    print(f"removed {total} lines ({100 * total / max(lines, 1):.2f}%)")
    for rule, count in by_rule.most_common():
        print(f"  {rule:22s} {count:7d}  {100 * count / max(lines, 1):.3f}%")
    if args.out:
        rng = random.Random(args.seed)
        with args.out.open("w", encoding="utf-8") as fh:
            fh.write("rule\tdoc_id\tline\ttext\n")
            for rule, rows in sorted(removed.items()):
                for doc_id, line, text in rng.sample(rows, min(args.sample, len(rows))):
                    fh.write(f"{rule}\t{doc_id}\t{line}\t{text.replace(chr(9), ' ')}\n")


if __name__ == "__main__":
    main()
