"""Reading VNTC and writing sample files; natural samples are seeded draws from the corpus."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import zstandard

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "vntc.jsonl.zst"


@dataclass(slots=True)
class Article:
    """One VNTC article (or a generated document, which has topic/source of its base)."""

    id: str
    text: str
    topic: str = ""
    source: str = ""


def read_corpus(path: Path = DEFAULT_CORPUS) -> list[Article]:
    """Stream the zstd JSON lines file; the whole corpus (250 MB of text) fits in memory."""
    out = []
    with path.open("rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw)
        for line in io.TextIOWrapper(reader, encoding="utf-8"):
            if line.strip():
                rec = orjson.loads(line)
                topic, source = rec.get("topic", ""), rec.get("source", "")
                out.append(Article(rec["id"], rec["text"], topic, source))
    return out


def natural_sample(corpus: Sequence[Article], size: int, seed: int) -> list[Article]:
    """A uniform random sample without replacement, in corpus order; same seed, same sample."""
    rng = np.random.default_rng(seed)
    size = min(size, len(corpus))
    picked = np.sort(rng.choice(len(corpus), size=size, replace=False))
    return [corpus[i] for i in picked]


def write_jsonl(docs: Sequence[Article], path: Path) -> None:
    """The sample as tinlap input: one {"id", "text", "topic", "source"} object a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        for d in docs:
            rec = {"id": d.id, "text": d.text, "topic": d.topic, "source": d.source}
            f.write(orjson.dumps(rec) + b"\n")


def fingerprint(docs: Sequence[Article], salt: str) -> str:
    """Identity of a sample's content, to know when a cached oracle result still applies."""
    h = hashlib.sha256(salt.encode())
    for d in docs:
        h.update(d.id.encode())
        h.update(b"\0")
        h.update(d.text.encode())
        h.update(b"\1")
    return h.hexdigest()[:16]
