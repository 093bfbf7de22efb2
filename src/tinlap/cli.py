"""The ``tinlap`` command: ``dedup`` (find and remove copies) and ``clean`` (boilerplate only)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tinlap import __version__
from tinlap.cluster import KEEP_POLICIES
from tinlap.config import DedupConfig
from tinlap.read import FORMATS, InputError
from tinlap.records import ProblemLog, StrictInputError

_SHOWN_PROBLEMS = 20
_DEFAULTS = DedupConfig()
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tinlap")
def main() -> None:
    """Find the same text published many times and hand back a clean corpus.

    \b
    Start with:
      tinlap dedup crawl.jsonl.zst --output out/
    then read out/summary.json (counts, problems, settings), out/clusters.parquet (which
    document copies which, with exact scores) and the kept corpus (out/kept.jsonl,
    out/kept.parquet or out/kept/, in the input's format).
    """


def _options(*decorators: Decorator) -> Decorator:
    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


_input_options = _options(
    click.argument("inputs", nargs=-1, required=True, metavar="INPUT..."),
    click.option(
        "--format",
        "input_format",
        type=click.Choice(FORMATS),
        default=None,
        help="Force the input format instead of detecting it from each file name.",
    ),
    click.option("--text-field", default="text", show_default=True, help="Field holding the text."),
    click.option(
        "--id-field",
        default="id",
        show_default=True,
        help="Field holding the document id (missing: FILE:LINE).",
    ),
)

_cleaning_options = _options(
    click.option(
        "--source-field",
        default=None,
        help="Field naming each record's site, for learned boilerplate "
        "[default: a url field's host, else a source field, else the .txt folder or input file].",
    ),
    click.option(
        "--no-learn",
        "no_learn",
        is_flag=True,
        help="Skip the first pass that learns each site's recurring lines (menus, footers).",
    ),
    click.option(
        "--boilerplate-min-docs",
        type=click.IntRange(2),
        default=_DEFAULTS.boilerplate_min_docs,
        show_default=True,
        help="A learned boilerplate line recurs in at least this many pages of its site...",
    ),
    click.option(
        "--boilerplate-fraction",
        type=click.FloatRange(0, 1, min_open=True),
        default=_DEFAULTS.boilerplate_fraction,
        show_default=True,
        help="...and in at least this share of them.",
    ),
)

_run_options = _options(
    click.option(
        "--keep-original-text",
        is_flag=True,
        help="Write documents with their original text instead of the cleaned text.",
    ),
    click.option(
        "--output-format",
        type=click.Choice(FORMATS),
        default=None,
        help="Format of the output corpus (default: the first input's format).",
    ),
    click.option(
        "-j",
        "--workers",
        type=click.IntRange(1),
        default=os.cpu_count() or 1,
        show_default="all cores",
        help="Worker processes for reading, cleaning and sketching.",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(1),
        default=_DEFAULTS.batch_size,
        show_default=True,
        help="Documents per worker task.",
    ),
    click.option(
        "--strict", is_flag=True, help="Stop at the first input error instead of skipping it."
    ),
    click.option("-q", "--quiet", is_flag=True, help="No progress bars or report on stderr."),
)


def _output_option(what: str) -> Decorator:
    return click.option(
        "-o",
        "--output",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help=f"Folder for {what}.",
    )


@main.command()
@_input_options
@_output_option("clusters.parquet, summary.json and the kept corpus")
@click.option(
    "--containment",
    "containment_threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=_DEFAULTS.containment_threshold,
    show_default=True,
    help="Remove a document when at least this share of its shingles is inside a kept one.",
)
@click.option(
    "--jaccard",
    "jaccard_threshold",
    type=click.FloatRange(0, 1, min_open=True),
    default=_DEFAULTS.jaccard_threshold,
    show_default=True,
    help="Documents this similar (Jaccard) or more are near-duplicates; the keep policy picks one.",
)
@click.option(
    "--shingle-size",
    type=click.IntRange(1, 64),
    default=_DEFAULTS.shingle_size,
    show_default=True,
    help="Words (syllables) per shingle.",
)
@click.option(
    "--num-perm",
    type=int,
    default=_DEFAULTS.num_perm,
    show_default=True,
    help="MinHash values per document (a power of two).",
)
@click.option(
    "--bands",
    type=click.IntRange(1),
    default=_DEFAULTS.bands,
    show_default=True,
    help="LSH bands. More, shorter bands find copies at lower similarity.",
)
@click.option(
    "--rows",
    type=click.IntRange(1),
    default=_DEFAULTS.rows,
    show_default=True,
    help="MinHash values per LSH band.",
)
@click.option(
    "--keep",
    "keep_policy",
    type=click.Choice(KEEP_POLICIES),
    default="longest",
    show_default=True,
    help="Which document of a cluster stays: longest cleaned text, first in input, or smallest "
    "id. Ties go to the smallest id.",
)
@click.option("--no-clean", is_flag=True, help="Match on the whole text, boilerplate included.")
@_cleaning_options
@_run_options
def dedup(**options: Any) -> None:
    """Remove exact, near-duplicate and contained copies from INPUT....

    INPUT is a folder of .txt files (id = path inside the folder), a JSONL file (.jsonl,
    .jsonl.gz, .jsonl.zst), a Parquet file, or a folder or glob of these.

    \b
    Writes to OUTPUT:
      clusters.parquet  every document in a cluster of two or more: id, cluster_id (the kept
                        document), kept, duplicate_of, jaccard, containment, reason
                        (exact | near | contained)
      kept.jsonl / kept.parquet / kept/   the corpus without its copies, in the input's format
      summary.json      counts, input problems, the configuration, time per stage

    Every candidate pair is verified on its exact shingle sets; a document is removed only for
    a kept document it was verified against (no chains).
    """
    from tinlap.pipeline import run_dedup

    summary, problems, output, quiet = _run(run_dedup, options)
    if not quiet:
        by_reason = summary["removed_by_reason"]
        _report(problems)
        click.echo(
            f"Read {summary['documents_read']} documents: kept {summary['documents_kept']}, "
            f"removed {summary['documents_removed']} (exact {by_reason['exact']}, near "
            f"{by_reason['near']}, contained {by_reason['contained']}) in {summary['clusters']} "
            f"clusters -> {output}",
            err=True,
        )


@main.command()
@_input_options
@_output_option("the cleaned corpus, removed_lines.parquet and summary.json")
@_cleaning_options
@_run_options
def clean(**options: Any) -> None:
    """Remove boilerplate lines from every document of INPUT... (no deduplication).

    Two passes: the first learns each site's recurring lines (menus, house bylines, footers:
    lines on many of one site's pages), the second applies them together with the built-in
    single-document rules (block headers such as "Tin liên quan" and the list after them,
    "[Video]" tag lines, captions and credits, footers, share counters, markup debris). The
    title line is kept unless it is itself site chrome; no document is ever emptied.

    \b
    Writes to OUTPUT:
      kept.jsonl / kept.parquet / kept/   every document, cleaned, in the input's format
      removed_lines.parquet  id, line (1-based), text, rule of every removed line
      summary.json           lines removed per rule, what was learned, input problems, settings
    """
    from tinlap.pipeline import run_clean

    summary, problems, output, quiet = _run(run_clean, options)
    if not quiet:
        _report(problems)
        click.echo(
            f"Cleaned {summary['documents_read']} documents: removed {summary['lines_removed']} "
            f"lines ({', '.join(f'{k} {v}' for k, v in summary['lines_removed_by_rule'].items())})"
            f" -> {output}",
            err=True,
        )


def _run(
    runner: Callable[..., dict[str, Any]], options: dict[str, Any]
) -> tuple[dict[str, Any], ProblemLog, Path, bool]:
    """Build the configuration from the options, run, and turn input errors into messages."""
    inputs, output = list(options.pop("inputs")), options.pop("output")
    quiet, strict = options.pop("quiet"), options.pop("strict")
    options["clean"] = not options.pop("no_clean", False)
    options["learn_boilerplate"] = not options.pop("no_learn")
    options["output_text"] = "original" if options.pop("keep_original_text") else "cleaned"
    try:
        config = DedupConfig(**options)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    problems = ProblemLog(strict=strict)
    try:
        summary = runner(inputs, output, config, quiet=quiet, problems=problems)
    except (InputError, StrictInputError) as err:
        raise click.ClickException(str(err)) from None
    return summary, problems, output, quiet


def _report(problems: ProblemLog) -> None:
    for problem in problems.problems[:_SHOWN_PROBLEMS]:
        click.echo(f"tinlap: {problem}", err=True)
    hidden = problems.n_errors + problems.n_warnings - min(len(problems.problems), _SHOWN_PROBLEMS)
    if hidden > 0:
        click.echo(f"tinlap: ... and {hidden} more input problems (see summary.json)", err=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
