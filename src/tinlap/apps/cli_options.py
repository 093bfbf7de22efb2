"""Command-line options shared by ``tinlap dedup`` and ``tinlap index create``.

Both freeze the same matching settings; one definition keeps their names, ranges, defaults
and help identical.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tinlap.config import SHINGLE_UNITS, DedupConfig
from tinlap.io.read import FORMATS
from tinlap.records import ProblemLog
from tinlap.wording import count

_DEFAULTS = DedupConfig()
SHOWN_PROBLEMS = 20
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def combine(*decorators: Decorator) -> Decorator:
    """One decorator applying several, in the order written."""

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


# Which files, and which fields of their records: every command that reads a corpus.
input_selection = combine(
    click.argument("inputs", nargs=-1, required=True, metavar="INPUT..."),
    click.option(
        "--format",
        "input_format",
        type=click.Choice(list(FORMATS)),
        default=None,
        help="Force the input format instead of detecting it from each file name.",
    ),
    click.option(
        "--text-field",
        default="text",
        show_default=True,
        metavar="FIELD",
        help="Field (or CSV column) holding the text.",
    ),
    click.option(
        "--id-field",
        default="id",
        show_default=True,
        metavar="FIELD",
        help="Field holding the document id (missing: FILE:LINE).",
    ),
)

matching_options = combine(
    click.option(
        "--containment",
        "containment_threshold",
        type=click.FloatRange(0, 1, min_open=True),
        metavar="X",
        default=_DEFAULTS.containment_threshold,
        show_default=True,
        help="A document is a copy when at least this share of its shingles is inside the other "
        "(kept or indexed) one.",
    ),
    click.option(
        "--jaccard",
        "jaccard_threshold",
        type=click.FloatRange(0, 1, min_open=True),
        metavar="X",
        default=_DEFAULTS.jaccard_threshold,
        show_default=True,
        help="Documents this similar (Jaccard) or more are near-duplicates of each other.",
    ),
    click.option(
        "--certain-containment",
        type=click.FloatRange(0, 1),
        metavar="X",
        default=_DEFAULTS.certain_containment,
        show_default=True,
        help="Below this containment a qualifying pair must also pass the sentence check "
        "(0 turns the check off).",
    ),
    click.option(
        "--sentence-coverage",
        "min_sentence_coverage",
        type=click.FloatRange(0, 1, min_open=True),
        metavar="X",
        default=_DEFAULTS.min_sentence_coverage,
        show_default=True,
        help="Sentence check: share of the copy's sentence text the original must reproduce.",
    ),
    click.option(
        "--shingle-size",
        type=click.IntRange(1, 64),
        metavar="N",
        default=_DEFAULTS.shingle_size,
        show_default=True,
        help="Words (syllables) per shingle.",
    ),
    click.option(
        "--shingles",
        type=click.Choice(list(SHINGLE_UNITS)),
        default=_DEFAULTS.shingles,
        show_default=True,
        help="What shingles are cut from. auto: words, and single characters of the scripts "
        "written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar), chosen per "
        "character; words: whitespace words only; chars: every character.",
    ),
    click.option(
        "--char-shingle-size",
        type=click.IntRange(1, 64),
        metavar="N",
        default=_DEFAULTS.char_shingle_size,
        show_default=True,
        help="Characters per shingle where the units are characters.",
    ),
    click.option(
        "--num-perm",
        type=int,
        metavar="N",
        default=_DEFAULTS.num_perm,
        show_default=True,
        help="MinHash values per document (a power of two).",
    ),
    click.option(
        "--bands",
        type=click.IntRange(1),
        metavar="N",
        default=_DEFAULTS.bands,
        show_default=True,
        help="LSH bands. More, shorter bands find copies at lower similarity.",
    ),
    click.option(
        "--rows",
        type=click.IntRange(1),
        metavar="N",
        default=_DEFAULTS.rows,
        show_default=True,
        help="MinHash values per LSH band.",
    ),
)


def report_problems(problems: ProblemLog, more: str = "", *, errors_only: bool = False) -> None:
    """The first input problems on stderr, each naming its file and line, then how many more
    there are (``more``: where to read them, e.g. " (see summary.json)"). ``errors_only`` (for
    ``-q``): only the errors, the records that were skipped."""
    shown = [p for p in problems.problems if not errors_only or p.severity == "error"]
    for problem in shown[:SHOWN_PROBLEMS]:
        click.echo(f"tinlap: {problem}", err=True)
    total = problems.n_errors + (0 if errors_only else problems.n_warnings)
    hidden = total - min(len(shown), SHOWN_PROBLEMS)
    if hidden > 0:
        what = "more input error" if errors_only else "more input problem"
        click.echo(f"tinlap: ... and {count(hidden, what)}{more}", err=True)


log_options = combine(
    click.option(
        "--log-level",
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
        default=None,
        help="Log the tinlap logger's events at this level and above [default: none; INFO "
        "when --log-file or --log-format json is given].",
    ),
    click.option(
        "--log-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Append the log to this file instead of stderr.",
    ),
    click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="json: one JSON object a line (event, stage, seconds, progress, problems), "
        "for schedulers.",
    ),
)
