"""``tinlap index ...`` and ``tinlap serve``: the incremental index from the command line.

Kept apart from cli.py so the dedup commands do not grow; cli.py registers these commands.
Heavy modules (numpy, the index, the web stack) are imported inside the commands, so
``tinlap --help`` stays fast and works without the ``serve`` extra.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from tinlap.apps.cli_options import combine, input_selection, matching_options, report_problems
from tinlap.config import DedupConfig
from tinlap.wording import count, number

_DEFAULTS = DedupConfig()

_dir_argument = click.argument("directory", type=click.Path(file_okay=False, path_type=Path))


_input_options = combine(
    input_selection,
    click.option(
        "--report",
        type=click.File("w", encoding="utf-8"),
        default="-",
        metavar="FILE",
        help="Where the JSONL report goes: one line per document [default: stdout].",
    ),
    click.option("-q", "--quiet", is_flag=True, help="No summary on stderr."),
)


@contextmanager
def _errors() -> Iterator[None]:
    """The index's and the input's errors as messages, not tracebacks."""
    from tinlap.index.store import IndexProblem
    from tinlap.io.read import InputError

    try:
        yield
    except (IndexProblem, InputError) as err:
        raise click.ClickException(str(err)) from None


def _records(inputs: tuple[str, ...], options: dict[str, Any]) -> tuple[Iterator[Any], Any]:
    from tinlap.io.read import discover, read_all
    from tinlap.records import ProblemLog

    problems = ProblemLog()
    sources = discover(list(inputs), options["input_format"], problems=problems)
    records = read_all(
        sources, problems, text_field=options["text_field"], id_field=options["id_field"]
    )
    return records, problems


def _write(report: IO[str], verdict: Any) -> None:
    report.write(json.dumps(verdict.to_dict(), ensure_ascii=False) + "\n")


@click.group("index", short_help="An index of documents seen, to check new ones against.")
def index() -> None:
    """Keep an index of documents seen so far and check new ones against it.

    \b
      tinlap index create idx/
      tinlap index add idx/ crawl-monday.jsonl --only-new > report.jsonl
      tinlap index query idx/ incoming.jsonl            # read-only
      tinlap dedup tuesday.jsonl --against idx/ -o out/  # remove only copies of indexed docs
      tinlap serve idx/                                 # the same over HTTP

    A document copies an indexed one when their Jaccard >= --jaccard or when at least
    --containment of its shingles are inside the indexed one; the indexed document always
    counts as the original (it came first), as with `tinlap dedup --keep first`. Cleaning uses
    the single-document rules only (learned boilerplate needs a whole corpus).
    """


@index.command("create", short_help="Create an empty index with frozen settings.")
@_dir_argument
@matching_options
@click.option(
    "--max-bucket",
    type=click.IntRange(1),
    metavar="N",
    default=_DEFAULTS.max_bucket,
    show_default=True,
    help="Candidates taken from one LSH bucket (the earliest documents), against hot buckets.",
)
@click.option("--no-clean", is_flag=True, help="Match on the whole text, boilerplate included.")
def create(directory: Path, no_clean: bool, **settings: Any) -> None:
    """Create an empty index in DIRECTORY, its matching settings frozen for good.

    \b
    Examples:
      tinlap index create idx/
      tinlap index create idx/ --containment 0.6 --jaccard 0.7
    """
    from tinlap.index.store import Index, IndexSettings

    try:
        index_settings = IndexSettings(clean=not no_clean, **settings)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    with _errors(), Index.create(directory, index_settings):
        pass
    click.echo(f"Created index {directory} ({json.dumps(index_settings.to_dict())})", err=True)


@index.command("add", short_help="Add documents, reporting what each copies.")
@_dir_argument
@_input_options
@click.option(
    "--only-new",
    is_flag=True,
    help="Add only documents that copy nothing (indexed or earlier in this add); report all.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    metavar="SECONDS",
    default=30.0,
    show_default=True,
    help="Seconds to wait while another process is adding.",
)
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(1),
    metavar="N",
    default=1,
    show_default=True,
    help="Processes that sketch the next documents while this one decides and writes; the "
    "verdicts are the same.",
)
def add(directory: Path, inputs: tuple[str, ...], **options: Any) -> None:
    """Add the documents of the INPUT files to the index, reporting for each what it copies.

    \b
    Examples:
      tinlap index add idx/ crawl-monday.jsonl > monday.jsonl
      tinlap index add idx/ crawl-tuesday.jsonl --only-new --report tuesday.jsonl

    Each document is compared with the index and with the earlier documents of this add, in
    input order, as if added one at a time. The whole add is one transaction: interrupted or
    crashed, it leaves the index as it was; the report is final only when the command succeeds.
    """
    from collections import Counter

    from tinlap.engines.indexing import add_records
    from tinlap.index.store import Index

    counts: Counter[str] = Counter()
    with _errors():
        records, problems = _records(inputs, options)
        with Index(directory, wait=options["wait"]) as idx:
            verdicts = add_records(idx, records, options["workers"], only_new=options["only_new"])
            for verdict in verdicts:
                _write(options["report"], verdict)
                counts["documents"] += 1
                counts["added"] += verdict.added
                counts["errors"] += verdict.error is not None
                if verdict.duplicate:
                    counts["batch" if verdict.matches[0].batch else "indexed"] += 1
    if not options["quiet"]:
        report_problems(problems)
        click.echo(
            f"Read {count(counts['documents'], 'document')}: added {number(counts['added'])}; "
            f"copies of indexed documents {number(counts['indexed'])}, of earlier ones in this "
            f"add {number(counts['batch'])}"
            + (
                f"; {number(counts['errors'])} not added (id already indexed)"
                if counts["errors"]
                else ""
            ),
            err=True,
        )


@index.command("query", short_help="Report what each document copies (read-only).")
@_dir_argument
@_input_options
def query(directory: Path, inputs: tuple[str, ...], **options: Any) -> None:
    """Report, for each document of the INPUT files, which indexed documents it copies.

    \b
    Example:
      tinlap index query idx/ incoming.jsonl > verdicts.jsonl

    Read-only. Documents are compared with the index only, not with each other.
    """
    from itertools import islice

    from tinlap.index.store import Index, sketch_texts

    duplicates = documents = 0
    with _errors():
        records, problems = _records(inputs, options)
        with Index(directory) as idx:
            while batch := list(islice(records, 2000)):
                sk = sketch_texts([r.text for r in batch], idx.settings)
                for verdict in idx.check_sketches(sk, [r.id for r in batch]):
                    _write(options["report"], verdict)
                    duplicates += verdict.duplicate
                documents += len(batch)
    if not options["quiet"]:
        report_problems(problems)
        click.echo(
            f"Checked {count(documents, 'document')}: "
            f"{count(duplicates, 'copy', 'copies')} of indexed ones",
            err=True,
        )


@index.command("stats", short_help="Print counts, size and settings as JSON.")
@_dir_argument
def stats(directory: Path) -> None:
    """Print the index's counts, size on disk and frozen settings as JSON."""
    from tinlap.index.store import Index

    with _errors(), Index(directory) as idx:
        click.echo(json.dumps(idx.stats(), indent=2))


@click.command("serve", short_help="Serve an index over HTTP.")
@_dir_argument
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESS",
    help="Address to listen on (0.0.0.0: all).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    default=8000,
    show_default=True,
    help="TCP port to listen on.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="File holding the bearer token [default: the TINLAP_TOKEN environment variable].",
)
@click.option(
    "--max-body-bytes",
    type=click.IntRange(1),
    metavar="N",
    default=1 << 20,
    help="Larger requests get 413 [default: 1,048,576 (1 MiB)].",
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1),
    metavar="N",
    default=1,
    show_default=True,
    help="Server processes, for more cores (/add waits for the index's write lock).",
)
def serve(
    directory: Path,
    host: str,
    port: int,
    token_file: Path | None,
    max_body_bytes: int,
    workers: int,
) -> None:
    """Serve the index in DIRECTORY over HTTP (needs: pip install 'tinlap[serve]').

    \b
    Example:
      TINLAP_TOKEN=$(cat token) tinlap serve idx/ --port 8080
    \b
      POST /check           {"text": ...}               -> duplicate?, of which, scores
      POST /add             {"id": ..., "text": ..., "only_new": false}
      GET  /documents/{id}  GET /health  GET /openapi.json
    Every route but /health and /openapi.json needs "Authorization: Bearer <token>" (at least
    16 characters; repeated failures from one address get 429). Request headers must arrive
    within 10 s, each piece of a body within 30 s; at most 256 connections per worker.
    """
    try:
        from tinlap.apps.service import TOKEN_ENV, check_token
        from tinlap.apps.service import serve as run
    except ImportError as err:
        raise click.ClickException(
            f"tinlap serve needs the web extra ({err.name} is missing): pip install 'tinlap[serve]'"
        ) from None
    token = token_file.read_text().strip() if token_file else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise click.UsageError(f"no token: set {TOKEN_ENV} or pass --token-file")
    try:
        check_token(token)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    click.echo(f"tinlap: serving {directory} on http://{host}:{port}", err=True)
    with _errors():
        run(
            directory,
            token,
            host=host,
            port=port,
            max_body_bytes=max_body_bytes,
            workers=workers,
        )
