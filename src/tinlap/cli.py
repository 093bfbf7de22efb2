"""The ``tinlap`` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tinlap import __version__
from tinlap.cluster import KEEP_POLICIES
from tinlap.config import DedupConfig
from tinlap.read import FORMATS, InputError
from tinlap.records import ProblemLog, StrictInputError

_SHOWN_PROBLEMS = 20
_DEFAULTS = DedupConfig()


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


@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for clusters.parquet, summary.json and the kept corpus.",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(FORMATS),
    default=None,
    help="Force the input format instead of detecting it from each file name.",
)
@click.option(
    "--text-field", default="text", show_default=True, help="JSONL/Parquet field holding the text."
)
@click.option(
    "--id-field",
    default="id",
    show_default=True,
    help="JSONL/Parquet field holding the document id (missing: FILE:LINE).",
)
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
    help="Which document of a cluster stays: longest cleaned text, first in input, or smallest id. "
    "Ties go to the smallest id.",
)
@click.option("--no-clean", is_flag=True, help="Match on the whole text, boilerplate included.")
@click.option(
    "--keep-original-text",
    is_flag=True,
    help="Write kept documents with their original text instead of the cleaned text.",
)
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default=None,
    help="Format of the kept corpus (default: the first input's format).",
)
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    show_default="all cores",
    help="Worker processes for reading, cleaning and sketching.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=_DEFAULTS.batch_size,
    show_default=True,
    help="Documents per worker task.",
)
@click.option(
    "--strict", is_flag=True, help="Stop at the first input error instead of skipping the record."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or report on stderr.")
def dedup(
    inputs: tuple[str, ...],
    output: Path,
    strict: bool,
    quiet: bool,
    no_clean: bool,
    keep_original_text: bool,
    **settings: object,
) -> None:
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

    try:
        config = DedupConfig(
            clean=not no_clean,
            output_text="original" if keep_original_text else "cleaned",
            **settings,
        )  # type: ignore[arg-type]
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    problems = ProblemLog(strict=strict)
    try:
        summary = run_dedup(list(inputs), output, config, quiet=quiet, problems=problems)
    except (InputError, StrictInputError) as err:
        raise click.ClickException(str(err)) from None
    if not quiet:
        _report(summary, problems, output)


def _report(summary: dict, problems: ProblemLog, output: Path) -> None:
    for problem in problems.problems[:_SHOWN_PROBLEMS]:
        click.echo(f"tinlap: {problem}", err=True)
    hidden = problems.n_errors + problems.n_warnings - min(len(problems.problems), _SHOWN_PROBLEMS)
    if hidden > 0:
        click.echo(f"tinlap: ... and {hidden} more input problems (see summary.json)", err=True)
    by_reason = summary["removed_by_reason"]
    click.echo(
        f"Read {summary['documents_read']} documents: kept {summary['documents_kept']}, removed "
        f"{summary['documents_removed']} (exact {by_reason['exact']}, near {by_reason['near']}, "
        f"contained {by_reason['contained']}) in {summary['clusters']} clusters -> {output}",
        err=True,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
