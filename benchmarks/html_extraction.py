"""Main-text extraction: quality (precision / recall / F1) and speed (pages/s) in one run.

Data: ``../shared/data/article_extraction_benchmark/`` (the Zyte article-extraction benchmark:
181 pages, ``html/<id>.html.gz`` and ``ground-truth.json`` with each page's ``articleBody``).

Metric, as the benchmark's README and evaluation describe it (re-implemented here): each
text is cut into ``\\w+`` tokens and their overlapping 4-token shingles, counted as a
multiset; per page, TP / FP / FN are the shingles shared / only predicted / only expected,
scaled to sum to 1 so long pages weigh no more than short ones. Precision is the mean over
pages with something predicted, recall the mean over pages with something expected, and F1
is computed from those two means.

Rows (one process, one page at a time, after a warm-up; pages/s counts extraction only,
reading and decompression are done beforehand):

- ``trafilatura (defaults)``: ``trafilatura.extract(html)``, the extractor alone.
- ``tinlap extract``: ``tinlap.io.html.extract`` (trafilatura with tinlap's settings, title as
  the first line).
- ``tinlap extract + clean``: the above, then tinlap's line cleaner (``tinlap.core.clean.Cleaner``):
  the text tinlap matches on and writes. The title line counts against precision (the
  benchmark's article body has no title); ``..., title not counted`` leaves it out.
- ``resiliparse (main_content)``: ``extract_plain_text(html, main_content=True)``, when
  resiliparse is installed (it is not a tinlap dependency).

    .venv/bin/python benchmarks/html_extraction.py [--data DIR] [--repeat N] [--out FILE]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "data" / "article_extraction_benchmark"
DEFAULT_OUT = HERE / "results" / "html-extraction.md"
_TOKEN = re.compile(r"\w+")
SHINGLE = 4


# ------------------------------------------------------------------------------------ metric


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Multiset of overlapping n-token shingles (a text shorter than n is one shingle)."""
    tokens = _TOKEN.findall(text or "")
    if len(tokens) <= n:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_scores(expected: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) of one page, scaled to sum to 1 (all zero when both are empty)."""
    want, got = shingles(expected), shingles(predicted)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def scores(pages: list[tuple[float, float, float]]) -> dict[str, float]:
    """Mean precision (pages that predicted something), mean recall (pages that expect
    something), and F1 of the two means."""
    precision = statistics.mean(_precision(*p) for p in pages if p[0] + p[1] > 0)
    recall = statistics.mean(_recall(*p) for p in pages if p[0] + p[2] > 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


# -------------------------------------------------------------------------------- extractors


def _trafilatura_defaults() -> Callable[[bytes, str | None], str]:
    import trafilatura

    return lambda html, url: trafilatura.extract(html) or ""


def _tinlap_extract() -> Callable[[bytes, str | None], str]:
    from tinlap.io.html import extract

    return lambda html, url: extract(html, url).text


def _tinlap_clean() -> Callable[[bytes, str | None], str]:
    from tinlap.core.clean import Cleaner
    from tinlap.io.html import extract

    cleaner = Cleaner()
    return lambda html, url: cleaner.clean(extract(html, url).text).text


def _resiliparse() -> Callable[[bytes, str | None], str] | None:
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    except ImportError:
        return None

    def run(html: bytes, url: str | None) -> str:
        text = bytes_to_str(html, detect_encoding(html))
        return extract_plain_text(text, main_content=True)

    return run


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "?"


# ---------------------------------------------------------------------------------------- run


def load(data: Path) -> tuple[list[str], dict[str, bytes], dict[str, dict[str, str]]]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    pages = {i: gzip.decompress((data / "html" / f"{i}.html.gz").read_bytes()) for i in ids}
    return ids, pages, truth


def measure(
    fn: Callable[[bytes, str | None], str],
    ids: list[str],
    pages: dict[str, bytes],
    truth: dict[str, dict[str, str]],
    repeat: int,
) -> tuple[dict[str, str], float]:
    """Outputs per page and the best pages/s over ``repeat`` timed passes (after a warm-up)."""
    for i in ids[:3]:
        fn(pages[i], truth[i].get("url"))
    best = float("inf")
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        start = time.perf_counter()
        outputs = {i: fn(pages[i], truth[i].get("url")) for i in ids}
        best = min(best, time.perf_counter() - start)
    return outputs, len(ids) / best


def without_title(text: str) -> str:
    return text.split("\n", 1)[1] if "\n" in text else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=2, help="timed passes; the best counts")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").is_file():
        print(f"no benchmark data at {args.data}", file=sys.stderr)
        return 2
    ids, pages, truth = load(args.data)
    load_at_start = os.getloadavg()

    runs: list[tuple[str, Callable[[bytes, str | None], str]]] = [
        (
            f"trafilatura {_version('trafilatura')} (defaults), extractor alone",
            _trafilatura_defaults(),
        ),
        ("tinlap extract (trafilatura, tinlap settings, title line)", _tinlap_extract()),
        ("tinlap extract + clean (what tinlap matches and writes)", _tinlap_clean()),
    ]
    resiliparse = _resiliparse()
    if resiliparse is not None:
        runs.append(
            (f"resiliparse {_version('resiliparse')} (main_content), extractor alone", resiliparse)
        )
    rows = []
    for name, fn in runs:
        outputs, speed = measure(fn, ids, pages, truth, args.repeat)
        result = scores([page_scores(truth[i]["articleBody"], outputs[i]) for i in ids])
        rows.append((name, result, speed))
        print(f"{name}: {result} {speed:.1f} pages/s", file=sys.stderr)
        if name.startswith("tinlap extract + clean"):
            no_title = {i: without_title(outputs[i]) for i in ids}
            result = scores([page_scores(truth[i]["articleBody"], no_title[i]) for i in ids])
            rows.append(("tinlap extract + clean, title line not counted", result, speed))

    lines = [
        "# Main-text extraction: quality and speed",
        "",
        f"{date.today().isoformat()}, {len(ids)} pages of the article-extraction benchmark "
        f"(`shared/data/article_extraction_benchmark/`); Python {platform.python_version()} "
        f"on {platform.machine()}, one process; best of {args.repeat} timed passes; load "
        f"average {load_at_start[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        "(on a shared machine, compare the rows of one run, not runs). Made by "
        "`benchmarks/html_extraction.py` (metric and rows described there).",
        "",
        "| extraction | precision | recall | F1 | pages/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, result, speed in rows:
        lines.append(
            f"| {name} | {result['precision']:.3f} | {result['recall']:.3f} "
            f"| {result['f1']:.3f} | {speed:.1f} |"
        )
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
