"""The ``tinlap`` command: ``dedup`` (find and remove copies), ``clean`` (boilerplate only),
``explain`` (why two documents are copies) and ``report`` (an HTML report of a dedup output)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tinlap import __version__
from tinlap.apps.cli_config import config_extra, config_option
from tinlap.apps.cli_index import index as index_group
from tinlap.apps.cli_index import serve
from tinlap.apps.cli_options import (
    Decorator,
    combine,
    input_selection,
    log_options,
    matching_options,
    report_problems,
)
from tinlap.apps.logs import configure as configure_logging
from tinlap.apps.logs import release as release_logging
from tinlap.apps.progress import tqdm_progress
from tinlap.config import DedupConfig
from tinlap.core.decide import KEEP_POLICIES
from tinlap.engines.executors import EXECUTORS
from tinlap.engines.progress import set_progress
from tinlap.io.read import InputError
from tinlap.io.remote import is_url
from tinlap.io.storage import NotOurs, StorageError
from tinlap.io.write import COMPRESSIONS, OUTPUT_FORMATS, OutputOptionError
from tinlap.records import ProblemLog, StrictInputError
from tinlap.wording import count, number

_DEFAULTS = DedupConfig()

# Exit codes (README, "Exit codes"). 1 and 2 are click's: ClickException and UsageError.
EXIT_FAILED = 1  # the run failed: storage, executor, index, an output it may not write
EXIT_USAGE = 2  # a wrong option or argument
EXIT_INPUT = 3  # an input cannot be used: not found, refused format, unreadable file
EXIT_SKIPPED = 4  # records skipped beyond --max-errors, or no document read at all
EXIT_REFUSED = 5  # an output or work folder holds files tinlap did not create
EXIT_CODES_HELP = """\b
Exit codes:
  0  success (skipped records, if any, are reported on stderr and in summary.json)
  1  the run failed (storage, executor, an output it may not write, a crash)
  2  usage error (a wrong option or argument)
  3  an input cannot be used (no such file, refused format, an unreadable file)
  4  input records were skipped beyond --max-errors, or no document was read
     (the output is written; errors are listed on stderr, all in OUT/problems.jsonl)
  5  refused: the output (or --work) folder holds files tinlap did not write
     (nothing was changed; --overwrite replaces tinlap's own output names only)
"""


class InputUnusable(click.ClickException):
    """An input path or file that cannot be used at all."""

    exit_code = EXIT_INPUT


class FolderRefused(click.ClickException):
    """An output or work folder holds files tinlap did not create: nothing was touched."""

    exit_code = EXIT_REFUSED


class RecordsSkipped(click.ClickException):
    """The run finished but skipped more input records than allowed, or read none."""

    exit_code = EXIT_SKIPPED


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tinlap")
@log_options
def main(log_level: str | None, log_file: Path | None, log_format: str) -> None:
    """Find the same text published many times and hand back a clean corpus.

    \b
    Start with:
      tinlap dedup crawl.jsonl.zst --output out/      # remove the copies
      tinlap report out/                               # out/report/index.html: audit them
      tinlap explain REMOVED KEPT --output-dir out/    # why one document went
    then read out/summary.json (counts, problems, settings), out/clusters.parquet (which
    document copies which, with exact scores) and the kept corpus (out/kept.jsonl,
    out/kept.parquet or out/kept/, in the input's format). Every command has --help.
    """
    set_progress(tqdm_progress)  # the engines report; the command line draws
    handler = configure_logging(log_level, log_file, log_format)
    if handler is not None:
        click.get_current_context().call_on_close(lambda: release_logging(handler))


_input_options = combine(
    input_selection,
    click.option(
        "--html-field",
        default=None,
        metavar="FIELD",
        help="JSONL/Parquet field holding HTML: the text is the page's extracted main text "
        "(needs the html extra: pip install 'tinlap[html]').",
    ),
    click.option(
        "--follow-symlinks",
        is_flag=True,
        help="Read symbolic links in input folders that lead outside them (skipped, with a "
        "warning, by default).",
    ),
)

_cleaning_options = combine(
    click.option(
        "--source-field",
        default=None,
        metavar="FIELD",
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
        metavar="N",
        default=_DEFAULTS.boilerplate_min_docs,
        show_default=True,
        help="A learned boilerplate line recurs in at least this many pages of its site...",
    ),
    click.option(
        "--boilerplate-fraction",
        type=click.FloatRange(0, 1, min_open=True),
        metavar="X",
        default=_DEFAULTS.boilerplate_fraction,
        show_default=True,
        help="...and in at least this share of them.",
    ),
)

_run_options = combine(
    click.option(
        "--keep-original-text",
        is_flag=True,
        help="Write each document's text exactly as read (no boilerplate removal, no encoding "
        "repair) instead of the cleaned, repaired text.",
    ),
    click.option(
        "--overwrite",
        is_flag=True,
        help="Use an output folder holding files tinlap did not write there: replace those "
        "named like tinlap's outputs (kept*, clusters.parquet, summary.json, report...), leave "
        "the others. Without it such a folder is refused (exit code 5).",
    ),
    click.option(
        "--output-format",
        type=click.Choice(OUTPUT_FORMATS),
        default=None,
        help="Format of the output corpus [default: the first input's format; jsonl for "
        "html, warc, csv and tsv input].",
    ),
    click.option(
        "--output-compression",
        type=click.Choice(COMPRESSIONS),
        default="auto",
        show_default=True,
        help="Compression of the kept corpus. auto: the first input's (a .jsonl.zst input gives "
        "kept.jsonl.zst, .gz gives .gz), zstd columns for Parquet, none for txt.",
    ),
    click.option(
        "--output-shard-size",
        default=None,
        metavar="SIZE",
        callback=lambda ctx, param, value: _size_or_none(value),
        help="Split the kept corpus into numbered files of about SIZE each (256M, 1G): "
        "kept-00000.jsonl.zst, kept-00001... The sharded engine's workers write them in "
        "parallel. jsonl and parquet output.",
    ),
    click.option(
        "-j",
        "--workers",
        type=click.IntRange(1),
        metavar="N",
        default=os.cpu_count() or 1,
        help="Worker processes for reading, cleaning and sketching [default: all cores].",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(1),
        metavar="N",
        default=_DEFAULTS.batch_size,
        show_default=True,
        help="Documents per worker task.",
    ),
    click.option(
        "--strict", is_flag=True, help="Stop at the first input error instead of skipping it."
    ),
    click.option(
        "--max-errors",
        type=click.IntRange(0),
        metavar="N",
        default=None,
        help="Exit with code 4 when more input records than this were skipped (malformed, "
        "no text field...). The output is written either way [default: no limit, but a run "
        "that read no document fails].",
    ),
    click.option(
        "-q",
        "--quiet",
        is_flag=True,
        help="No progress bars, warnings or closing line on stderr (errors still are).",
    ),
)


def _size(value: str | int) -> int:
    """Bytes from '4G', '512M', '1.5GiB' or a plain number."""
    if isinstance(value, int):
        return value
    text = value.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in "KMGT" and text[-1:] else text
    try:
        return int(float(number) * scale)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a size such as 4G or 512M") from None


def _size_or_none(value: str | int | None) -> int | None:
    return None if value is None else _size(value)


_scale_options = combine(
    click.option(
        "--work",
        default=None,
        metavar="ROOT",
        help="Where the stages keep their files: a folder or an object store URL such as "
        "s3://bucket/prefix (pip install 'tinlap[s3]') [default: .tinlap-work in the --output "
        "folder]. "
        "If a run stops (killed, crashed, full disk), the same command again resumes from the "
        "finished tasks.",
    ),
    click.option(
        "--executor",
        type=click.Choice(sorted(EXECUTORS)),
        default="local",
        show_default=True,
        help="local: a process pool on this machine, no server. ray: Ray Core tasks "
        "(pip install 'tinlap[ray]'); the result is the same.",
    ),
    click.option(
        "--ray-address",
        default=None,
        metavar="ADDRESS",
        help="A running Ray cluster (auto, or ray://HOST:PORT) [default: start Ray locally]. "
        "With a cluster, --work must be storage every node reaches (e.g. s3://).",
    ),
    click.option(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="Memory for the whole run, such as 4G or 512M; each of the --workers tasks gets "
        "its share, and shard and partition sizes follow from it. Only arrays of one entry per "
        "document grow beyond it [default: 2G, or 640M per worker if more].",
    ),
    click.option(
        "--skip-bad-shards",
        is_flag=True,
        help="Go on without input files that cannot be read at all (listed in summary.json) "
        "instead of stopping.",
    ),
    click.option(
        "--components",
        type=click.Choice(["union-find", "star"]),
        default="union-find",
        show_default=True,
        help="How clusters are found among verified pairs: one task's numpy union-find (one "
        "entry per document in a pair), or large-star/small-star rounds of tasks for graphs "
        "beyond one machine. Same result.",
    ),
    click.option(
        "--restart", is_flag=True, help="Discard the work of an earlier, unfinished run first."
    ),
    click.option("--keep-work", is_flag=True, help="Keep the stage files after a successful run."),
    click.option(
        "--engine",
        type=click.Choice(["auto", "in-memory", "sharded"]),
        default="auto",
        show_default=True,
        help="in-memory: the whole corpus in this process, nothing written but the outputs "
        "(fastest when it fits). sharded: resumable stage tasks in bounded memory. auto: "
        "in-memory when the input's text is under 1/16 of the default memory budget (and in "
        "this process, without worker processes, when it is under 4 MB and -j was not given), "
        "else sharded; sharded whenever an option above is given. Same result either way.",
    ),
    click.option("--in-memory", is_flag=True, hidden=True, help="Same as --engine in-memory."),
)


def _output_location(ctx: click.Context, param: click.Parameter, value: str) -> Path | str:
    """A local folder as a Path; an object store URL (s3://, gs://, hf://...) as it is."""
    if is_url(value):
        return value
    return click.Path(file_okay=False, path_type=Path).convert(value, param, ctx)  # type: ignore[no-any-return]


def _output_option(what: str) -> Decorator:
    return click.option(
        "-o",
        "--output",
        required=True,
        metavar="FOLDER",
        callback=_output_location,
        help=f"Folder for {what}: a local folder, or an object store URL such as "
        "s3://bucket/out/ (pip install 'tinlap[s3]'; gs:// with tinlap[gcs]).",
    )


@main.command(epilog=EXIT_CODES_HELP, short_help="Remove exact, near and contained copies.")
@_input_options
@_output_option("clusters.parquet, summary.json and the kept corpus")
@matching_options
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
@click.option(
    "--against",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="An index (tinlap index create): remove only the documents that copy indexed ones; "
    "INPUT's documents are not compared with each other. Needs the index's settings.",
)
@_cleaning_options
@_run_options
@_scale_options
@config_option
def dedup(**options: Any) -> None:
    """Remove exact, near-duplicate and contained copies from the INPUT files.

    \b
    Examples:
      tinlap dedup crawl.jsonl.zst -o out/
      tinlap dedup articles/ -o out/                  # .txt files; id = path in the folder
      tinlap dedup 'dumps/*.parquet' --text-field content --id-field url -o out/
      tinlap dedup crawl.jsonl.zst -o out/ --containment 0.6 --keep first
      tinlap dedup new.jsonl --against idx/ -o out/   # only copies of indexed documents

    INPUT is a folder of .txt files (id = path inside the folder), a JSONL file (.jsonl,
    .jsonl.gz, .jsonl.zst), a Parquet file, a CSV or TSV table named directly (a header row;
    --text-field and --id-field name its columns), HTML pages (.html, .html.gz: pip install
    'tinlap[html]'), WARC/WET files (pip install 'tinlap[warc]'), or a folder or glob of these.

    \b
    Writes to the --output folder:
      clusters.parquet  every document in a cluster of two or more: id, cluster_id (the kept
                        document), kept, duplicate_of, jaccard, containment, reason
                        (exact | near | contained)
      kept.jsonl / kept.parquet / kept/   the corpus without its copies, in the input's format
      summary.json      counts, input problems, the configuration, time per stage

    Every candidate pair is verified on its exact shingle sets; a document is removed only for
    a kept document it was verified against (no chains). Below --certain-containment a pair
    is a copy only if the sentence check finds --sentence-coverage of its sentence text in the
    original. Then `tinlap report OUT` shows the decisions, the doubtful ones first.

    \b
    Large corpora: the run is a sequence of stages whose tasks each hold one shard or
    partition, sized by --memory-limit, and exchange files under --work. Killed, it resumes:
      tinlap dedup crawl/ -o out/                        # killed halfway...
      tinlap dedup crawl/ -o out/                        # ...goes on where it stopped
      tinlap dedup crawl/ -o out/ --executor ray --ray-address auto --work s3://b/tmp
    """
    from functools import partial

    from tinlap.engines.executors import ExecutorError
    from tinlap.engines.inmemory import run_dedup
    from tinlap.engines.sharded import RunError, ShardedOptions, run_sharded
    from tinlap.engines.stages.ingest import BadShard
    from tinlap.index.store import IndexProblem

    against = options.pop("against")
    scale = ShardedOptions(
        work=options.pop("work"),
        executor=options.pop("executor"),
        ray_address=options.pop("ray_address"),
        memory_limit=None if (limit := options.pop("memory_limit")) is None else _size(limit),
        skip_bad_shards=options.pop("skip_bad_shards"),
        restart=options.pop("restart"),
        keep_work=options.pop("keep_work"),
        components=options.pop("components"),
    )
    engine = options.pop("engine")
    if options.pop("in_memory"):
        engine = "in-memory"
    staged = (
        scale.work is not None
        or scale.executor != "local"
        or scale.ray_address is not None
        or scale.memory_limit is not None
        or scale.restart
        or scale.keep_work
        or scale.skip_bad_shards
        or scale.components != "union-find"
    )
    if against is not None:
        engine = "in-memory" if engine == "auto" else engine
    if engine == "in-memory" and staged:
        raise click.UsageError(
            "--engine in-memory and --against run in one process: no --work, --executor, "
            "--ray-address, --memory-limit, --restart, --keep-work, --skip-bad-shards or "
            "--components"
        )
    if engine == "auto":
        engine = "sharded" if staged else _auto_engine(options)
    in_memory = engine == "in-memory"
    runner = (
        partial(run_dedup, against=against) if in_memory else partial(run_sharded, options=scale)
    )
    try:
        summary, problems, output, quiet, max_errors = _run(runner, options)
    except BadShard as err:
        raise InputUnusable(str(err)) from None
    except (IndexProblem, RunError, StorageError, ExecutorError) as err:
        raise click.ClickException(str(err)) from None
    report_problems(problems, " (see problems.jsonl)", errors_only=quiet)
    if not quiet:
        by_reason = summary["removed_by_reason"]
        click.echo(
            f"Read {count(summary['documents_read'], 'document')}: kept "
            f"{number(summary['documents_kept'])}, removed {number(summary['documents_removed'])}"
            f" (exact {number(by_reason['exact'])}, near {number(by_reason['near'])}, contained "
            f"{number(by_reason['contained'])}) in {count(summary['clusters'], 'cluster')} -> "
            f"{output}",
            err=True,
        )
        execution = summary.get("execution")
        if execution:
            reused = sum(t["reused"] for t in execution["tasks"].values())
            kept = "kept" if execution["work_kept"] else "removed"
            click.echo(
                f"{count(execution['shards'], 'shard')}; temporary files "
                f"{execution['temporary_disk_bytes'] / 2**20:,.0f} MiB in {execution['storage']} "
                f"({kept})"
                + (f"; {count(reused, 'task')} reused from an earlier run" if reused else ""),
                err=True,
            )
    _check_skipped(summary, problems, max_errors, output)


@main.command(epilog=EXIT_CODES_HELP, short_help="Remove boilerplate lines only (no dedup).")
@_input_options
@_output_option("the cleaned corpus, removed_lines.parquet and summary.json")
@_cleaning_options
@_run_options
@config_option
def clean(**options: Any) -> None:
    """Remove boilerplate lines from every document of the INPUT files (no deduplication).

    \b
    Examples:
      tinlap clean crawl.jsonl.zst -o cleaned/
      tinlap clean crawl.jsonl.zst -o cleaned/ --source-field site   # sites named by a field
      tinlap clean one-site/ -o cleaned/ --no-learn                  # built-in rules only

    INPUT is what `tinlap dedup` reads. Two passes: the first learns each site's recurring
    lines (menus, house bylines, footers: lines on many of one site's pages), the second
    applies them together with the built-in single-document rules (block headers such as "Tin
    liên quan" and the list after them, "[Video]" tag lines, captions and credits, footers,
    share counters, markup debris). The title line is kept unless it is itself site chrome;
    no document is ever emptied.

    \b
    Writes to the --output folder:
      kept.jsonl / kept.parquet / kept/   every document, cleaned, in the input's format
      removed_lines.parquet  id, line (1-based), text, rule of every removed line
      summary.json           lines removed per rule, what was learned, input problems, settings
    """
    from tinlap.engines.inmemory import run_clean

    summary, problems, output, quiet, max_errors = _run(run_clean, options)
    report_problems(problems, " (see problems.jsonl)", errors_only=quiet)
    if not quiet:
        by_rule = ", ".join(f"{k} {number(v)}" for k, v in summary["lines_removed_by_rule"].items())
        click.echo(
            f"Cleaned {count(summary['documents_read'], 'document')}: removed "
            f"{count(summary['lines_removed'], 'line')} ({by_rule}) -> {output}",
            err=True,
        )
    _check_skipped(summary, problems, max_errors, output)


def _check_skipped(
    summary: dict[str, Any], problems: ProblemLog, max_errors: int | None, output: Path
) -> None:
    """Exit code 4 when more records than ``--max-errors`` were skipped, or none was read.

    Without --max-errors skipped records do not fail the run: a crawl of millions of records
    always holds a few broken ones, and each is counted and named (stderr, summary.json,
    problems.jsonl). A run that read no document at all, though, is a mistake (a wrong
    --text-field, the wrong file) and never succeeds silently.
    """
    skipped, read = problems.n_errors, summary["documents_read"]
    if max_errors is not None and skipped > max_errors:
        raise RecordsSkipped(
            f"{count(skipped, 'input record')} skipped, more than --max-errors "
            f"{number(max_errors)} (read {count(read, 'document')}; output in {output}, every "
            "problem in problems.jsonl)"
        )
    if read == 0:
        why = (
            f"{count(skipped, 'input record')} skipped" if skipped else "the input holds no records"
        )
        raise RecordsSkipped(f"no document was read: {why} (see {output}/problems.jsonl)")


def _auto_engine(options: dict[str, Any]) -> str:
    """``--engine auto``: the engine and worker count the input's size calls for."""
    from tinlap.engines.plan import plan
    from tinlap.engines.sharded import default_memory_limit
    from tinlap.io.read import discover

    try:
        sources = discover(
            list(options["inputs"]),
            options["input_format"],
            problems=ProblemLog(keep=0),  # reported by the run itself, which discovers again
            follow_symlinks=options["follow_symlinks"],
        )
    except InputError as err:
        raise InputUnusable(str(err)) from None
    asked = click.get_current_context().get_parameter_source("workers")
    chosen = plan(
        sources,
        default_memory_limit(options["workers"]),
        options["workers"],
        workers_asked=asked is not click.core.ParameterSource.DEFAULT,
    )
    options["workers"] = chosen.workers
    return chosen.engine


def _run(
    runner: Callable[..., dict[str, Any]], options: dict[str, Any]
) -> tuple[dict[str, Any], ProblemLog, Path, bool, int | None]:
    """Build the configuration from the options, run, and turn input errors into messages."""
    inputs, output = list(options.pop("inputs")), options.pop("output")
    quiet, strict = options.pop("quiet"), options.pop("strict")
    max_errors = options.pop("max_errors")
    overwrite = options.pop("overwrite")
    options["clean"] = not options.pop("no_clean", False)
    options["learn_boilerplate"] = not options.pop("no_learn")
    options["output_text"] = "original" if options.pop("keep_original_text") else "cleaned"
    try:
        config = DedupConfig(**{**config_extra(), **options})
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    problems = ProblemLog(strict=strict, spool=True)
    try:
        summary = runner(
            inputs, output, config, quiet=quiet, problems=problems, overwrite=overwrite
        )
    except InputError as err:
        raise InputUnusable(str(err)) from None
    except OutputOptionError as err:
        raise click.UsageError(str(err)) from None
    except StrictInputError as err:
        raise RecordsSkipped(str(err)) from None
    except NotOurs as err:  # a folder tinlap did not create: refused, with its own exit code
        raise FolderRefused(str(err)) from None
    except StorageError as err:  # e.g. an --output URL that cannot be written
        raise click.ClickException(str(err)) from None
    return summary, problems, output, quiet, max_errors


main.add_command(index_group)
main.add_command(serve)

_workers_option = click.option(
    "-j",
    "--workers",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    metavar="N",
    help="Worker processes when the inputs must be read again (learned boilerplate) "
    "[default: all cores].",
)


@main.command(short_help="Why two documents are, or are not, copies.")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "-d",
    "--output-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A dedup output folder: A and B are ids of its documents, found again in its inputs "
    "and judged with its settings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (schema tinlap.apps.explain/1).")
@click.option(
    "--color/--no-color", default=None, help="Colour the marks [default: when on a terminal]."
)
@click.option(
    "--jaccard",
    "jaccard_threshold",
    type=click.FloatRange(0, 1, min_open=True),
    metavar="X",
    default=None,
    help=f"Near-duplicate threshold [default: the output's, else {_DEFAULTS.jaccard_threshold}].",
)
@click.option(
    "--containment",
    "containment_threshold",
    type=click.FloatRange(0, 1, min_open=True),
    metavar="X",
    default=None,
    help=f"Containment threshold [default: the output's, else {_DEFAULTS.containment_threshold}].",
)
@click.option(
    "--keep",
    "keep_policy",
    type=click.Choice(KEEP_POLICIES),
    default=None,
    help=f"Keep policy [default: the output's, else {_DEFAULTS.keep_policy}].",
)
@_workers_option
def explain(
    a: str,
    b: str,
    output_dir: Path | None,
    as_json: bool,
    color: bool | None,
    workers: int,
    **overrides: Any,
) -> None:
    """Why A and B are, or are not, copies: scores, decision, the two texts aligned.

    \b
    Examples:
      tinlap explain REMOVED KEPT --output-dir out/   # ids from out/clusters.parquet
      tinlap explain copy.txt original.txt
      tinlap explain copy.txt original.txt --containment 0.6 --json

    A and B are text files (cleaned with the built-in rules), or, with --output-dir OUT, two
    document ids of a dedup output: its inputs are read again (summary.json lists them) and
    cleaned with its settings, so the scores are those in OUT/clusters.parquet. Name the copy
    first, as the HTML report does: A = the removed copy, B = its kept original (the
    decision is the same either way). Try other --jaccard / --containment / --keep values to
    see what they would change.

    \b
    Marks in each text (colours on a terminal; the brackets when piped):
      [=...=]  shared with the other text (green)
      {+...+}  only in this text (yellow)
      [-...-]  line removed as boilerplate, with the rule that removed it (red, struck)
    For every removal but an exact copy, the copy's sentences follow as the sentence check
    aligns them (the decision rests on it below --certain-containment): ~ an edited sentence,
    [-the original's words-] {+the copy's+}; ✗ a sentence not found in the other text.
    """
    from dataclasses import replace

    import orjson

    from tinlap.apps.explain import explain as explain_pair
    from tinlap.apps.explain import render, to_json
    from tinlap.apps.retrieve import DedupOutput, OutputError, from_file

    settings = {k: v for k, v in overrides.items() if v is not None}
    recorded = None
    if output_dir is None:
        for name in (a, b):
            if not Path(name).is_file():
                raise click.UsageError(
                    f"{name}: no such file (ids of a dedup output need --output-dir)"
                )
        docs = [from_file(Path(a)), from_file(Path(b))]
        config = replace(_DEFAULTS, **settings)
    else:
        try:
            output = DedupOutput.load(output_dir)
        except OutputError as err:
            raise click.ClickException(str(err)) from None
        problems = ProblemLog()
        found = {
            d.id: d for d in output.find([a, b], workers=workers, quiet=False, problems=problems)
        }
        missing = [name for name in dict.fromkeys((a, b)) if name not in found]
        if missing:
            report_problems(problems, " (see summary.json)")
            raise click.ClickException(
                f"not found in the inputs of {output_dir}: {', '.join(missing)}"
            )
        docs = [found[a], found[b]]
        config = replace(output.config, **settings)
        rows = output.rows([a, b])
        recorded = {"a": rows.get(a), "b": rows.get(b)}
    result = explain_pair(docs[0], docs[1], config, recorded)
    if as_json:
        click.echo(orjson.dumps(to_json(result), option=orjson.OPT_INDENT_2).decode())
    else:
        use_color = sys.stdout.isatty() if color is None else color
        click.echo(render(result, use_color), color=use_color)


@main.command(short_help="Write an HTML report of a dedup output, for auditing it.")
@click.argument(
    "output_dir", metavar="OUT", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report [default: OUT/report].",
)
@click.option(
    "--max-details",
    type=click.IntRange(0),
    metavar="N",
    default=10_000,
    help="Clusters that get a page of their own (all of them in smaller outputs; else the "
    "first ones of every list page) [default: 10,000].",
)
@click.option(
    "--near",
    type=click.IntRange(0),
    metavar="N",
    default=200,
    show_default=True,
    help="Removals listed nearest a threshold, each with a page of its own (0: none).",
)
@_workers_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or message on stderr.")
def report(
    output_dir: Path, to: Path | None, max_details: int, near: int, workers: int, quiet: bool
) -> None:
    """Write a static HTML report of the dedup output OUT, for auditing its decisions.

    \b
    Examples:
      tinlap report out/                     # then open out/report/index.html
      tinlap report out/ --to /tmp/audit --near 500 --max-details 2000

    \b
    The report holds:
      - totals, what each stage removed, the scores of verified pairs and the cluster sizes
        plotted against the thresholds;
      - the removals nearest a threshold (Jaccard, containment, certain containment, sentence
        coverage), nearest first, each with a page of its own;
      - every cluster in a list that searches ids, sorts by size or lowest score (click a
        column) and filters by reason, size and score ranges;
      - cluster pages: each removed copy (A) beside its kept original (B), as `tinlap explain
        A B` names them, shared passages highlighted, boilerplate struck out, and A's
        sentences as the sentence check aligns them: exact, edited (the edit shown) or
        unmatched.
    One folder, no server, nothing from the network. Texts come from reading OUT's inputs
    again (summary.json lists them).
    """
    from tinlap.apps.report import write_report
    from tinlap.apps.retrieve import DedupOutput, OutputError

    try:
        output = DedupOutput.load(output_dir)
    except OutputError as err:
        raise click.ClickException(str(err)) from None
    problems = ProblemLog()
    target = to if to is not None else output_dir / "report"
    try:
        stats = write_report(
            output,
            target,
            max_details=max_details,
            near=near,
            workers=workers,
            quiet=quiet,
            problems=problems,
        )
    except OutputError as err:
        raise click.ClickException(str(err)) from None
    if not quiet:
        report_problems(problems, " (see summary.json)")
        click.echo(
            f"Report of {count(stats.clusters, 'cluster')} ({number(stats.details)} with a page "
            f"of their own; {count(stats.near, 'removal')} nearest a threshold) -> "
            f"{target / 'index.html'}",
            err=True,
        )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
