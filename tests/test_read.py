"""read.py on real files written in tmp_path: formats, discovery and every kind of bad input."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from tinlap.io.read import InputError, Source, discover, read_all, read_source
from tinlap.records import ProblemLog, Record


def jsonl_bytes(rows: list[dict]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def read(path: Path, fmt: str | None = None, **kw) -> tuple[list[Record], ProblemLog]:
    problems = ProblemLog()
    return list(read_all(discover([path], fmt), problems, **kw)), problems


def only(problems: ProblemLog) -> tuple[str, str, str, int]:
    """The single problem logged, as (severity, kind, file name, line)."""
    assert len(problems.problems) == 1, problems.problems
    p = problems.problems[0]
    return p.severity, p.kind, Path(p.path).name, p.line


ROWS = [
    {"id": "a", "text": "Xin chào thế giới", "topic": "x"},
    {"id": "b", "text": "second doc", "topic": "y", "n": 2},
    {"id": "c", "text": "third", "nested": {"k": [1, 2]}},
]


# ------------------------------------------------------------------------------------ formats


def test_jsonl_records_fields_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b"\n".join(orjson.dumps(r) for r in ROWS[:2]) + b"\n\n  \n" + orjson.dumps(ROWS[2])
    )
    records, problems = read(path)
    assert [r.id for r in records] == ["a", "b", "c"]
    assert [r.text for r in records] == [r["text"] for r in ROWS]
    assert [r.line for r in records] == [1, 2, 5]
    assert records[1].fields == {"id": "b", "topic": "y", "n": 2}
    assert records[0].path == str(path)
    assert not problems.problems


@pytest.mark.parametrize(
    ("name", "compress"),
    [
        ("c.jsonl.gz", gzip.compress),
        ("c.jsonl.zst", zstandard.ZstdCompressor().compress),
        ("c.ndjson", bytes),
        ("c.json", bytes),
    ],
)
def test_jsonl_variants(tmp_path: Path, name: str, compress) -> None:
    path = tmp_path / name
    path.write_bytes(compress(jsonl_bytes(ROWS)))
    records, problems = read(path)
    assert discover([path])[0].format == "jsonl"
    assert [(r.id, r.text) for r in records] == [(r["id"], r["text"]) for r in ROWS]
    assert not problems.problems


def test_multi_frame_zstd(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.zst"
    cctx = zstandard.ZstdCompressor()
    path.write_bytes(cctx.compress(jsonl_bytes(ROWS[:2])) + cctx.compress(jsonl_bytes(ROWS[2:])))
    records, problems = read(path)
    assert [r.id for r in records] == ["a", "b", "c"]
    assert not problems.problems


def test_txt_folder_nested_ids(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub" / "deeper").mkdir(parents=True)
    (corpus / ".hidden").mkdir()
    (corpus / "b.txt").write_text("bee")
    (corpus / "a.txt").write_text("ay")
    (corpus / "sub" / "deeper" / "c.txt").write_text("sea")
    (corpus / ".hidden" / "x.txt").write_text("hidden dir")
    (corpus / ".y.txt").write_text("hidden file")
    records, problems = read(corpus)
    assert [r.id for r in records] == ["a.txt", "b.txt", "sub/deeper/c.txt"]
    assert [r.text for r in records] == ["ay", "bee", "sea"]
    assert all(r.line == 0 and r.fields is None for r in records)
    assert not problems.problems


def test_single_txt_file_id_is_its_name(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.txt").write_text("\ufeffwith a BOM")
    records, _ = read(tmp_path / "d" / "one.txt")
    assert [(r.id, r.text) for r in records] == [("one.txt", "with a BOM")]


def test_parquet_rows_fields_and_batches(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    n = 2500  # crosses the reader's batch size
    pq.write_table(
        pa.table(
            {
                "id": [f"d{i}" for i in range(n)],
                "text": [f"t{i}" for i in range(n)],
                "year": list(range(n)),
            }
        ),
        path,
        row_group_size=1000,
    )
    records, problems = read(path)
    assert len(records) == n
    assert (records[0].id, records[0].text, records[0].line) == ("d0", "t0", 1)
    assert records[-1].line == n
    assert records[1234].fields == {"id": "d1234", "year": 1234}
    assert not problems.problems


def test_parquet_without_id_column(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"text": ["x", "y"], "n": [7, 8]}), path)
    records, problems = read(path)
    assert [r.id for r in records] == ["p.parquet:1", "p.parquet:2"]
    assert only(problems) == ("warning", "missing_id", "p.parquet", 1)


def test_mixed_folder_and_skipped_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("plain")
    (tmp_path / "b.jsonl").write_bytes(jsonl_bytes(ROWS[:1]))
    pq.write_table(pa.table({"id": ["p"], "text": ["from parquet"]}), tmp_path / "c.parquet")
    (tmp_path / "README.md").write_text("not a corpus file")
    problems = ProblemLog()
    sources = discover([tmp_path], problems=problems)
    assert [(s.path.name, s.format) for s in sources] == [
        ("a.txt", "txt"),
        ("b.jsonl", "jsonl"),
        ("c.parquet", "parquet"),
    ]
    assert sources[0].root == tmp_path and sources[1].root is None
    assert only(problems) == ("warning", "skipped_file", "README.md", 0)
    records = list(read_all(sources, problems))
    assert [r.id for r in records] == ["a.txt", "a", "p"]


def test_glob(tmp_path: Path) -> None:
    for name in ["x/1.txt", "x/y/2.txt", "x/y/3.jsonl", "z/4.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    records, _ = read(tmp_path / "x" / "**" / "*.txt")
    assert [r.id for r in records] == ["1.txt", "y/2.txt"]
    sources = discover([f"{tmp_path}/*/y/*.jsonl", f"{tmp_path}/x/**/*.txt"])
    assert [s.path.name for s in sources] == ["3.jsonl", "1.txt", "2.txt"]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("once")
    assert len(discover([tmp_path, tmp_path / "a.txt", f"{tmp_path}/*.txt"])) == 1


def test_forced_format(tmp_path: Path) -> None:
    (tmp_path / "data.dat").write_bytes(gzip.compress(jsonl_bytes(ROWS)))
    records, _ = read(tmp_path / "data.dat", "jsonl")
    assert [r.id for r in records] == ["a", "b", "c"]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n.md").write_text("# markdown doc")
    records, _ = read(notes, "txt")
    assert [(r.id, r.text) for r in records] == [("n.md", "# markdown doc")]


def test_sniffs_files_without_known_extension(tmp_path: Path) -> None:
    (tmp_path / "lines").write_bytes(zstandard.ZstdCompressor().compress(jsonl_bytes(ROWS)))
    (tmp_path / "prose").write_text("just words")
    pq.write_table(pa.table({"text": ["x"]}), tmp_path / "table")
    formats = [s.format for s in discover([tmp_path / n for n in ["lines", "prose", "table"]])]
    assert formats == ["jsonl", "txt", "parquet"]
    (tmp_path / "blob").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(InputError, match="cannot tell its format"):
        discover([tmp_path / "blob"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [d / "nope.jsonl"], "no such file"),
        (lambda d: [str(d / "*.jsonl")], "no files match"),
        (lambda d: [d], "no .txt, .jsonl, .parquet, .arrow, .html or .warc files"),
        (lambda d: [], "no input"),
    ],
)
def test_discover_errors(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(InputError, match=message):
        discover(make(tmp_path))


def test_unknown_forced_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown format 'xml'"):
        discover([tmp_path], "xml")
    assert issubclass(InputError, ValueError)


# ------------------------------------------------------------- CSV / TSV tables (issue 13 item 5)

CSV_TEXT = (
    'id,text,topic\na,"Xin chào, thế giới\nhai dòng",x\nb,second doc,y\n'
    ',no id here,z\nbroken,row\nc,"say ""hi""",\n'
)


def test_csv_named_directly_is_a_table(tmp_path: Path) -> None:
    """A .csv given directly was one text document (the cleaner rewrote it); now its rows are
    records, quoted newlines and commas kept, a ragged row a malformed_csv error."""
    (tmp_path / "t.csv").write_text(CSV_TEXT)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(CSV_TEXT.encode()))
    for name in ("t.csv", "t.csv.gz"):
        problems = ProblemLog()
        sources = discover([tmp_path / name])
        assert sources[0].format == "csv"
        records = list(read_all(sources, problems))
        assert [(r.id, r.text, r.line) for r in records] == [
            ("a", "Xin chào, thế giới\nhai dòng", 1),
            ("b", "second doc", 2),
            (f"{name}:3", "no id here", 3),
            ("c", 'say "hi"', 4),
        ]
        assert records[0].fields == {"id": "a", "topic": "x"}
        assert records[3].fields == {"id": "c", "topic": ""}  # every column is text
        (error,) = [p for p in problems.problems if p.severity == "error"]
        assert error.kind == "malformed_csv"
        assert "2 fields, expected 3 (it starts 'broken,row')" in error.message


def test_tsv_text_and_id_fields_and_missing_column(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("key\tbody\n1\tmột\n2\thai\n")
    records, _ = read(tmp_path / "t.tsv", text_field="body", id_field="key")
    assert [(r.id, r.text) for r in records] == [("1", "một"), ("2", "hai")]
    records, problems = read(tmp_path / "t.tsv")
    assert records == []
    assert only(problems) == ("error", "missing_text", "t.tsv", 0)


def test_csv_in_a_folder_only_when_forced(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("plain")
    (tmp_path / "meta.csv").write_text("id,text\nx,y\n")
    problems = ProblemLog()
    assert [s.path.name for s in discover([tmp_path], problems=problems)] == ["a.txt"]
    assert only(problems) == ("warning", "skipped_file", "meta.csv", 0)
    assert [s.format for s in discover([tmp_path / "meta.csv"], "csv")] == ["csv"]


def test_unknown_extension_named_directly_is_refused(tmp_path: Path) -> None:
    (tmp_path / "news.dat").write_bytes(jsonl_bytes(ROWS))
    with pytest.raises(InputError, match=r"news.dat: unknown extension '\.dat'.*--format"):
        discover([tmp_path / "news.dat"])
    assert [s.format for s in discover([tmp_path / "news.dat"], "jsonl")] == ["jsonl"]


# ------------------------------------------------------ special files in folders (issue 13 item 6)


def test_special_files_in_a_folder_are_skipped_and_named(tmp_path: Path) -> None:
    """A symlink loop and a dangling link ended in tracebacks, a FIFO hung the run: each is now
    a special_file error naming it, never opened."""
    import os
    import socket

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(jsonl_bytes(ROWS[:1]))
    (folder / "loop.jsonl").symlink_to("loop.jsonl")
    (folder / "dangling.jsonl").symlink_to("nowhere.jsonl")
    os.mkfifo(folder / "fifo.jsonl")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.jsonl"))
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..")  # a folder link back up: walked once, no loop
    (folder / "inside.jsonl").symlink_to("a.jsonl")  # inside the folder: fine (read once)
    problems = ProblemLog()
    try:
        sources = discover([folder], problems=problems)
    finally:
        sock.close()
    assert [s.path.name for s in sources] == ["a.jsonl"]
    found = {(Path(p.path).name, p.severity, p.kind) for p in problems.problems}
    assert found == {
        (name, "error", "special_file")
        for name in ("dangling.jsonl", "fifo.jsonl", "loop.jsonl", "sock.jsonl")
    }
    messages = " ".join(p.message for p in problems.problems)
    for what in ("symbolic link loop", "dangling symbolic link", "FIFO", "socket"):
        assert what in messages
    glob_problems = ProblemLog()
    assert [s.path.name for s in discover([f"{folder}/*.jsonl"], problems=glob_problems)] == [
        "a.jsonl"
    ]
    assert glob_problems.n_errors == 4


def test_symlinks_leaving_the_input_folder_need_follow_symlinks(tmp_path: Path) -> None:
    """A link to /etc/shadow was copied into the kept corpus; now it is not followed (a
    warning naming it) unless follow_symlinks."""
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the corpus")
    (tmp_path / "other.txt").write_text("reached through the folder link")
    folder = tmp_path / "in"
    (folder / "d").mkdir(parents=True)
    (folder / "a.txt").write_text("inside")
    (folder / "b.txt").symlink_to(secret)
    (folder / "d" / "out").symlink_to(tmp_path)  # a folder link leaving it
    problems = ProblemLog()
    assert [s.path.name for s in discover([folder], problems=problems)] == ["a.txt"]
    assert {(Path(p.path).name, p.kind) for p in problems.problems} == {
        ("b.txt", "outside_link"),
        ("out", "outside_link"),
    }
    assert problems.n_errors == 0
    followed = discover([folder], follow_symlinks=True)
    assert sorted(s.path.name for s in followed) == ["a.txt", "b.txt", "other.txt"]


# ---------------------------------------------------------------------------------- bad input


def lines_file(tmp_path: Path, *lines: bytes, name: str = "bad.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


GOOD = b'{"id": "ok", "text": "fine"}'


@pytest.mark.parametrize(
    ("bad", "kind"),
    [
        (b'{"id": "x", "text": "unterminated', "malformed_json"),
        (b'{"id": "x" "text": "no comma"}', "malformed_json"),
        (b'["an", "array"]', "not_object"),
        (b"42", "not_object"),
        (b'{"id": "x", "body": "wrong field"}', "missing_text"),
        (b'{"id": "x", "text": 17}', "text_not_string"),
        (b'{"id": "x", "text": null}', "text_not_string"),
        (b'{"id": "x", "text": ["a", "b"]}', "text_not_string"),
    ],
)
def test_bad_jsonl_line_is_an_error_and_reading_goes_on(
    tmp_path: Path, bad: bytes, kind: str
) -> None:
    records, problems = read(lines_file(tmp_path, GOOD, bad, GOOD.replace(b"ok", b"ok2")))
    assert [r.id for r in records] == ["ok", "ok2"]
    assert [r.line for r in records] == [1, 3]
    assert only(problems) == ("error", kind, "bad.jsonl", 2)


def test_invalid_utf8_in_jsonl_is_replaced_and_warned(tmp_path: Path) -> None:
    records, problems = read(lines_file(tmp_path, b'{"id": "x", "text": "caf\xe9 ok"}', GOOD))
    assert records[0].text == "caf\ufffd ok"
    assert only(problems) == ("warning", "invalid_utf8", "bad.jsonl", 1)


def test_lone_surrogate_escape_is_replaced(tmp_path: Path) -> None:
    records, problems = read(lines_file(tmp_path, b'{"id": "x", "text": "a\\ud800b"}'))
    assert records[0].text == "a\ufffdb"
    assert only(problems)[:2] == ("warning", "invalid_utf8")


def test_bom_before_first_line(tmp_path: Path) -> None:
    records, problems = read(lines_file(tmp_path, b"\xef\xbb\xbf" + GOOD))
    assert [r.id for r in records] == ["ok"]
    assert not problems.problems


def test_empty_text_is_kept_with_a_warning(tmp_path: Path) -> None:
    records, problems = read(lines_file(tmp_path, b'{"id": "e", "text": ""}', GOOD))
    assert [(r.id, r.text) for r in records] == [("e", ""), ("ok", "fine")]
    assert only(problems) == ("warning", "empty_text", "bad.jsonl", 1)


def test_empty_jsonl_file(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    records, problems = read(tmp_path / "empty.jsonl")
    assert records == []
    assert only(problems) == ("warning", "empty_file", "empty.jsonl", 0)


def test_missing_id_uses_file_and_line_warned_once(tmp_path: Path) -> None:
    records, problems = read(
        lines_file(tmp_path, GOOD, b'{"text": "a"}', b'{"text": "b", "id": null}')
    )
    assert [r.id for r in records] == ["ok", "bad.jsonl:2", "bad.jsonl:3"]
    assert only(problems) == ("warning", "missing_id", "bad.jsonl", 2)
    assert "2 record(s)" in problems.problems[0].message


def test_ids_become_strings(tmp_path: Path) -> None:
    records, _ = read(lines_file(tmp_path, b'{"id": 7, "text": "seven"}'))
    assert records[0].id == "7"
    assert records[0].fields == {"id": 7}


def test_huge_line_is_skipped_in_chunks(tmp_path: Path) -> None:
    huge = b'{"id": "big", "text": "' + b"x" * 5000 + b'"}'
    path = lines_file(tmp_path, GOOD, huge, GOOD.replace(b"ok", b"after"))
    records, problems = read(path, max_record_bytes=1000)
    assert [r.id for r in records] == ["ok", "after"]
    assert only(problems) == ("error", "too_large", "bad.jsonl", 2)
    assert "5,02" in problems.problems[0].message  # reports the real size


def test_huge_last_line_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(GOOD + b"\n" + b'{"text": "' + b"y" * 3000)
    records, problems = read(path, max_record_bytes=1000)
    assert [r.id for r in records] == ["ok"]
    assert only(problems) == ("error", "too_large", "bad.jsonl", 2)


def test_pretty_printed_json_is_refused_once(tmp_path: Path) -> None:
    path = tmp_path / "pretty.json"
    path.write_bytes(orjson.dumps(ROWS, option=orjson.OPT_INDENT_2))
    records, problems = read(path)
    assert records == []
    assert only(problems) == ("error", "not_jsonl", "pretty.json", 1)


@pytest.mark.parametrize(
    ("name", "compress"),
    [("t.jsonl.gz", gzip.compress), ("t.jsonl.zst", zstandard.ZstdCompressor().compress)],
)
def test_truncated_stream_keeps_records_before_it(tmp_path: Path, name: str, compress) -> None:
    rows = [{"id": f"r{i}", "text": f"document number {i} " * 20} for i in range(5000)]
    whole = compress(jsonl_bytes(rows))
    path = tmp_path / name
    path.write_bytes(whole[: len(whole) * 2 // 3])
    records, problems = read(path)
    severity, kind, file, line = only(problems)
    assert (severity, kind, file) == ("error", "truncated", name)
    assert 0 < len(records) < 5000
    assert line == len(records) == records[-1].line  # the last good line is named
    assert [r.id for r in records] == [f"r{i}" for i in range(len(records))]
    assert f"after line {line:,}" in problems.problems[0].message


def test_corrupt_gzip_header(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x09garbage that is not deflate")
    records, problems = read(path)
    assert records == []
    assert only(problems)[:2] == ("error", "unreadable")


def test_txt_problems(tmp_path: Path) -> None:
    (tmp_path / "bad_utf8.txt").write_bytes(b"caf\xe9")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "control.txt").write_bytes(bytes(range(1, 9)) * 50)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "huge.txt").write_bytes(b"z" * 2000)
    (tmp_path / "ok.txt").write_text("good text")
    records, problems = read(tmp_path, max_record_bytes=1000)
    assert [(r.id, r.text) for r in records] == [
        ("bad_utf8.txt", "caf\ufffd"),
        ("empty.txt", ""),
        ("ok.txt", "good text"),
    ]
    found = {(Path(p.path).name, p.severity, p.kind, p.line) for p in problems.problems}
    assert found == {
        ("bad_utf8.txt", "warning", "invalid_utf8", 0),
        ("binary.txt", "error", "binary", 0),
        ("control.txt", "error", "binary", 0),
        ("empty.txt", "warning", "empty_text", 0),
        ("huge.txt", "error", "too_large", 0),
    }


def test_unreadable_parquet(tmp_path: Path) -> None:
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 this is not really parquet")
    records, problems = read(tmp_path / "junk.parquet")
    assert records == []
    assert only(problems)[:3] == ("error", "unreadable", "junk.parquet")


def test_truncated_parquet(tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    pq.write_table(pa.table({"text": ["x"] * 100}), path)
    path.write_bytes(path.read_bytes()[:-20])
    records, problems = read(path)
    assert records == []
    assert only(problems)[:3] == ("error", "unreadable", "cut.parquet")


def test_parquet_text_column_problems(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "no_text.parquet")
    pq.write_table(pa.table({"id": ["a"], "text": [5]}), tmp_path / "int_text.parquet")
    bad = pa.array([b"ok", b"caf\xe9", None, b""], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"id": ["g", "u", "n", "e"], "text": bad}), tmp_path / "rows.parquet")
    records, problems = read(tmp_path)
    assert [(r.id, r.text) for r in records] == [("g", "ok"), ("u", "caf\ufffd"), ("e", "")]
    found = {(Path(p.path).name, p.severity, p.kind, p.line) for p in problems.problems}
    assert found == {
        ("no_text.parquet", "error", "missing_text", 0),
        ("int_text.parquet", "error", "text_not_string", 0),
        ("rows.parquet", "warning", "invalid_utf8", 2),
        ("rows.parquet", "error", "missing_text", 3),
        ("rows.parquet", "warning", "empty_text", 4),
    }


def test_text_field_and_id_field_are_configurable(tmp_path: Path) -> None:
    path = lines_file(tmp_path, b'{"doc": "d1", "body": "hello", "id": "not this"}')
    records, problems = read(path, text_field="body", id_field="doc")
    assert (records[0].id, records[0].text) == ("d1", "hello")
    assert records[0].fields == {"doc": "d1", "id": "not this"}
    assert not problems.problems


def test_nothing_is_lost_silently(tmp_path: Path) -> None:
    """Every non-blank line is either a record or an error."""
    lines = [GOOD, b"{", b"[]", b'{"text": 1}', b"", b'{"text": "\xff"}', b'{"x": 1}', b"nul\x00l"]
    records, problems = read(lines_file(tmp_path, *lines))
    errors = [p.line for p in problems.problems if p.severity == "error"]
    assert sorted([r.line for r in records] + errors) == [1, 2, 3, 4, 6, 7, 8]


# ------------------------------------------------------------------------------- duplicate ids


def test_duplicate_ids_renamed_across_files(tmp_path: Path) -> None:
    lines_file(
        tmp_path, b'{"id": "a", "text": "1"}', b'{"id": "a#2", "text": "2"}', name="f1.jsonl"
    )
    lines_file(tmp_path, b'{"id": "a", "text": "3"}', b'{"id": "a", "text": "4"}', name="f2.jsonl")
    records, problems = read(tmp_path)
    assert [r.id for r in records] == ["a", "a#2", "a#3", "a#4"]
    assert [r.text for r in records] == ["1", "2", "3", "4"]
    assert [(p.severity, p.kind, Path(p.path).name, p.line) for p in problems.problems] == [
        ("warning", "duplicate_id", "f2.jsonl", 1),
        ("warning", "duplicate_id", "f2.jsonl", 2),
    ]
    assert "'a'" in problems.problems[0].message and "'a#3'" in problems.problems[0].message


def test_read_source_does_not_rename(tmp_path: Path) -> None:
    path = lines_file(tmp_path, GOOD, GOOD)
    records = list(read_source(Source(path, "jsonl", None), ProblemLog()))
    assert [r.id for r in records] == ["ok", "ok"]


# ------------------------------------------------------------------------------------ real data


def test_real_corpus_first_records(vntc_path: Path) -> None:
    problems = ProblemLog()
    records = list(itertools.islice(read_all(discover([vntc_path]), problems), 200))
    assert len(records) == 200
    assert len({r.id for r in records}) == 200
    for record in records:
        assert isinstance(record.id, str) and record.id
        assert isinstance(record.text, str) and record.text.strip()
        assert {"source", "topic"} <= set(record.fields)
    assert not problems.problems


# ------------------------------------------------------------------------------- Arrow IPC


def arrow_table(n: int) -> pa.Table:
    return pa.table(
        {
            "id": [f"d{i}" for i in range(n)],
            "text": [f"văn bản {i}" for i in range(n)],
            "year": list(range(n)),
        }
    )


@pytest.mark.parametrize("name", ["c.arrow", "c.feather", "c.ipc", "c.arrows"])
@pytest.mark.parametrize("layout", ["file", "stream"])
def test_arrow_ipc_rows_fields_and_batches(tmp_path: Path, name: str, layout: str) -> None:
    path = tmp_path / name
    table = arrow_table(2500)
    opener = pa.ipc.new_file if layout == "file" else pa.ipc.new_stream
    with opener(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=1000)  # three record batches
    records, problems = read(path)
    assert len(records) == 2500
    assert (records[0].id, records[0].text, records[0].line) == ("d0", "văn bản 0", 1)
    assert records[1234].fields == {"id": "d1234", "year": 1234}
    assert records[-1].line == 2500
    assert not problems.problems


def test_arrow_one_big_batch_is_read_in_slices(tmp_path: Path) -> None:
    import pyarrow.feather as feather

    path = tmp_path / "big.feather"
    feather.write_feather(arrow_table(5000), path, chunksize=5000, compression="zstd")
    records, problems = read(path)
    assert [r.line for r in records] == list(range(1, 5001))
    assert not problems.problems


def test_arrow_text_and_id_fields_and_problems(tmp_path: Path) -> None:
    path = tmp_path / "t.arrow"
    with pa.ipc.new_file(path, pa.schema([("body", pa.string()), ("n", pa.int64())])) as w:
        w.write_table(pa.table({"body": ["x", None, ""], "n": [1, 2, 3]}))
    records, problems = read(path, text_field="body")
    assert [(r.id, r.text) for r in records] == [("t.arrow:1", "x"), ("t.arrow:3", "")]
    kinds = [(p.kind, p.line) for p in problems.problems]
    assert kinds == [("missing_id", 1), ("missing_text", 2), ("empty_text", 3)]
    _, problems = read(path)  # no "text" column: the file is skipped, naming the columns
    assert only(problems)[:2] == ("error", "missing_text")
    assert "'body', 'n'" in problems.problems[0].message


def test_arrow_damaged_and_feather_v1_files_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.arrow"
    with pa.ipc.new_file(path, arrow_table(10).schema) as writer:
        writer.write_table(arrow_table(10))
    path.write_bytes(path.read_bytes()[:-40])
    records, problems = read(path)
    assert records == [] and only(problems)[:2] == ("error", "unreadable")
    old = tmp_path / "old.feather"
    old.write_bytes(b"FEA1" + b"\0" * 64)
    records, problems = read(old)
    assert records == [] and "Feather version 1" in problems.problems[0].message


def test_arrow_files_are_found_in_folders_and_sniffed(tmp_path: Path) -> None:
    with pa.ipc.new_file(tmp_path / "a.arrow", arrow_table(2).schema) as writer:
        writer.write_table(arrow_table(2))
    (tmp_path / "noext").write_bytes((tmp_path / "a.arrow").read_bytes())
    assert [s.format for s in discover([tmp_path])] == ["arrow"]
    assert [s.format for s in discover([tmp_path / "noext"])] == ["arrow"]


def test_remote_files_of_every_format_read_like_local_ones(tmp_path: Path) -> None:
    """memory:// stands for an object store: discovery (folder, glob, file) and the readers."""
    import fsspec

    fs = fsspec.filesystem("memory")
    base = f"read-test-{tmp_path.name}"
    fs.pipe(f"{base}/a.jsonl.zst", zstandard.compress(jsonl_bytes(ROWS)))
    fs.pipe(f"{base}/sub/b.txt", "một văn bản".encode())
    fs.pipe(f"{base}/.hidden/c.txt", b"never read")
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.jsonl.zst").write_bytes(zstandard.compress(jsonl_bytes(ROWS)))
    (local / "sub").mkdir()
    (local / "sub" / "b.txt").write_text("một văn bản")
    remote, problems = read(f"memory://{base}/")
    mine, _ = read(local)
    assert [(r.id, r.text, r.line) for r in remote] == [(r.id, r.text, r.line) for r in mine]
    assert remote[-1].path == f"memory://{base}/sub/b.txt"
    assert not problems.problems
    globbed = discover([f"memory://{base}/**/*.txt"])
    assert [s.path.name for s in globbed] == ["b.txt"]
    with pytest.raises(InputError, match="no such file or folder"):
        discover([f"memory://{base}/missing.jsonl"])
