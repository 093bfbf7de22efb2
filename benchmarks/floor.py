"""The floor: read the corpus, normalise each text, split it into words, and nothing more.

No deduplicator can be faster end to end than reading and tokenising its input, so this is
the yardstick for "within 3x of the floor". The default normalisation is tinlap's own, the way
the pipeline runs it (``Tokeniser.tokenise_batch``: batched, cached per distinct raw token);
`--key nfc` uses plain NFC + casefold + str.split, as a reference for how much the matching
key itself costs. Run with tinlap's Python; prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path


def _fallback_key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def iter_lines(path: Path) -> Iterator[bytes]:
    """Lines of a .jsonl or .jsonl.zst file, streamed."""
    if path.suffix == ".zst":
        import zstandard

        with open(path, "rb") as raw:
            stream = zstandard.ZstdDecompressor().stream_reader(raw)
            yield from io.BufferedReader(stream, buffer_size=1 << 20)
    else:
        with open(path, "rb") as f:
            yield from f


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("input", type=Path)
    ap.add_argument(
        "--key",
        choices=("tinlap", "nfc"),
        default="tinlap",
        help="tinlap's matching key (the floor) or plain NFC + casefold (a reference)",
    )
    args = ap.parse_args()

    import orjson

    t0 = time.perf_counter()
    docs = words = 0
    if args.key == "tinlap":
        from tinlap.core.normalise import Tokeniser

        tokeniser, how, batch = Tokeniser(), "tinlap Tokeniser.tokenise_batch", []
        for line in iter_lines(args.input):
            if line.strip():
                batch.append(orjson.loads(line)["text"])
            if len(batch) == 2000:
                words += len(tokeniser.tokenise_batch(batch).hashes)
                docs, batch = docs + len(batch), []
        if batch:
            words += len(tokeniser.tokenise_batch(batch).hashes)
            docs += len(batch)
    else:
        key, how = _fallback_key, "NFC+casefold"
        for line in iter_lines(args.input):
            if not line.strip():
                continue
            text = orjson.loads(line)["text"]
            words += len(key(text).split())
            docs += 1
    print(
        json.dumps(
            {
                "tool": "floor",
                "docs_in": docs,
                "words": words,
                "normaliser": how,
                "inner_s": round(time.perf_counter() - t0, 3),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
