"""The wrapped sample: VNTC articles inside generated per-source site chrome, plus reposts.

``build`` draws a seeded sample of VNTC, wraps each article in its source's site (``chrome.py``)
and adds reposts: articles of the sample republished under a *different* source's chrome, in
full or trimmed. It writes three files:

- ``wrapped.jsonl``: the pages (id, source, topic, text), the input of the tinlap runs;
- ``plain.jsonl``: the same pages without any chrome (title + body), the no-chrome baseline;
- ``truth.jsonl``: per page its line labels (``chrome:<kind>`` / ``article:<i>`` / ``blank``),
  the VNTC article it came from and, for reposts, the variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from chrome import Page, Wrapper, pick_pools, split_body, trim
from common import SOURCES, Doc, write_jsonl

VARIANTS = ("full", "trim_tail", "trim_both")
MIN_REPOST_WORDS = 80  # a trimmed repost of a shorter article is too short to say much


@dataclass(slots=True)
class Wrapped:
    """The generated pages with their ground truth."""

    pages: list[Page]
    plain: list[str]  # each page's text without chrome

    def reposts(self) -> list[Page]:
        return [p for p in self.pages if p.variant != "original"]


def build(corpus: list[Doc], size: int, reposts: int, seed: int) -> Wrapped:
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(corpus), size=min(size, len(corpus)), replace=False))
    sample = [corpus[i] for i in picked.tolist()]
    bodies = [split_body(d.text) for d in sample]
    titles = [
        (d.source, b.lines[0] if b.lines else "") for d, b in zip(sample, bodies, strict=True)
    ]
    wrapper = Wrapper(pick_pools(titles, rng), rng)

    pages: list[Page] = []
    plain: list[str] = []
    for doc, body in zip(sample, bodies, strict=True):
        if not body.lines:
            continue
        pages.append(wrapper.wrap(doc.id, doc.source, doc.topic, body, doc.id))
        plain.append("\n".join(body.lines))

    # Reposts: distinct long-enough originals, each under another source's site.
    long_enough = [
        i
        for i, b in enumerate(bodies)
        if b.lines and sum(len(s.split()) for s in b.lines[1:]) >= MIN_REPOST_WORDS
    ]
    chosen = rng.choice(len(long_enough), size=min(reposts, len(long_enough)), replace=False)
    extra: list[tuple[Page, str]] = []
    for k, c in enumerate(chosen.tolist()):
        doc, body = sample[long_enough[c]], bodies[long_enough[c]]
        variant = VARIANTS[k % len(VARIANTS)]
        if variant == "trim_tail":
            body = trim(body, 0.0, float(rng.uniform(0.6, 0.8)))
        elif variant == "trim_both":
            body = trim(body, float(rng.uniform(0.1, 0.2)), float(rng.uniform(0.7, 0.85)))
        others = [s for s in SOURCES if s != doc.source]
        host = others[int(rng.integers(len(others)))]
        page = wrapper.wrap(f"repost/{host}/{doc.id}", host, doc.topic, body, doc.id, variant)
        extra.append((page, "\n".join(body.lines)))
    # Reposts go to random places among the originals (input order must not give them away).
    slots = np.sort(rng.choice(len(pages) + len(extra), size=len(extra), replace=False))
    merged_pages: list[Page] = []
    merged_plain: list[str] = []
    it = iter(zip(pages, plain, strict=True))
    taken = 0
    for pos in range(len(pages) + len(extra)):
        if taken < len(extra) and pos == slots[taken]:
            page, text = extra[taken]
            taken += 1
        else:
            page, text = next(it)
        merged_pages.append(page)
        merged_plain.append(text)
    return Wrapped(merged_pages, merged_plain)


def write(wrapped: Wrapped, topics: dict[str, str], folder: Path) -> None:
    def record(page: Page, text: str) -> dict[str, Any]:
        return {
            "id": page.id,
            "source": page.source,
            "topic": topics.get(page.base_id, ""),
            "text": text,
        }

    write_jsonl((record(p, p.text) for p in wrapped.pages), folder / "wrapped.jsonl")
    write_jsonl(
        (record(p, t) for p, t in zip(wrapped.pages, wrapped.plain, strict=True)),
        folder / "plain.jsonl",
    )
    write_jsonl(
        (
            {
                "id": p.id,
                "source": p.source,
                "base_id": p.base_id,
                "variant": p.variant,
                "labels": p.labels,
            }
            for p in wrapped.pages
        ),
        folder / "truth.jsonl",
    )


@dataclass(slots=True)
class Truth:
    """Ground truth of one page, as read back from ``truth.jsonl``."""

    id: str
    source: str
    base_id: str
    variant: str
    labels: list[str]


def read_truth(folder: Path) -> list[Truth]:
    with (folder / "truth.jsonl").open("rb") as fh:
        return [Truth(**orjson.loads(line)) for line in fh if line.strip()]


__all__ = ["Truth", "Wrapped", "build", "read_truth", "write"]
