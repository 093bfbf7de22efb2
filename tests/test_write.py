"""write.py: round trips through read.py, id safety for txt output, schemas, and atomicity."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import tinlap.io.write
from tinlap.io.read import discover, read_all
from tinlap.io.write import KeptWriter, write_json_atomic, write_table_atomic
from tinlap.records import ProblemLog, Record


def read_back(path: Path, fmt: str | None = None) -> list[Record]:
    """Read with read.py; the only problem tolerated is the empty text ROWS holds on purpose."""
    problems = ProblemLog()
    records = list(read_all(discover([path], fmt), problems))
    assert {p.kind for p in problems.problems} <= {"empty_text"}, problems.problems
    return records


def copy_through(records: list[Record], out: Path, fmt: str) -> KeptWriter:
    with KeptWriter(out, fmt) as writer:
        for record in records:
            writer.write(record, record.text)
    return writer


def shape(records: list[Record]) -> list[tuple]:
    return [(r.id, r.text, r.fields) for r in records]


ROWS = [
    {"id": "a", "text": "Xin chào thế giới", "topic": "x", "year": 2001},
    {"id": "b", "text": "second\ndoc", "topic": "y", "year": 2002},
    {"id": "c", "text": "", "topic": None, "year": 2003},
]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl.zst"
    src.write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(map(orjson.dumps, ROWS))))
    records = read_back(src)
    writer = copy_through(records, tmp_path / "out", "jsonl")
    assert writer.count == 3
    kept = tmp_path / "out" / "kept.jsonl"
    assert [orjson.loads(line) for line in kept.read_bytes().splitlines()] == ROWS
    assert "Xin chào".encode() in kept.read_bytes()  # UTF-8, not \u escapes
    assert shape(read_back(kept)) == shape(records)


def test_parquet_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), src)
    records = read_back(src)
    copy_through(records, tmp_path / "out", "parquet")
    kept = tmp_path / "out" / "kept.parquet"
    assert pq.read_table(kept).to_pylist() == ROWS
    assert shape(read_back(kept)) == shape(records)


def test_txt_round_trip_nested(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub" / "deep").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "sub" / "deep" / "leaf.txt").write_text("Tiếng Việt\n")
    records = read_back(src)
    copy_through(records, tmp_path / "out", "txt")
    kept = tmp_path / "out" / "kept"
    assert (kept / "sub" / "deep" / "leaf.txt").read_text() == "Tiếng Việt\n"
    assert shape(read_back(kept)) == shape(records)


def test_jsonl_output_ids(tmp_path: Path) -> None:
    """Invented and renamed ids are written; untouched ids keep their type."""
    records = [
        Record("7", "int id", "f.jsonl", 1, {"id": 7, "x": 1}),
        Record("7#2", "renamed", "f.jsonl", 2, {"id": 7}),
        Record("f.jsonl:3", "no id", "f.jsonl", 3, {"x": 3}),
        Record("f.jsonl:4", "null id", "f.jsonl", 4, {"id": None}),
        Record("t.txt", "from txt", "t.txt", 0, None),
    ]
    copy_through(records, tmp_path, "jsonl")
    rows = [orjson.loads(line) for line in (tmp_path / "kept.jsonl").read_bytes().splitlines()]
    assert rows == [
        {"id": 7, "x": 1, "text": "int id"},
        {"id": "7#2", "text": "renamed"},
        {"id": "f.jsonl:3", "x": 3, "text": "no id"},
        {"id": "f.jsonl:4", "text": "null id"},
        {"id": "t.txt", "text": "from txt"},
    ]
    assert list(rows[2]) == ["id", "x", "text"]


def test_text_and_id_field_names(tmp_path: Path) -> None:
    with KeptWriter(tmp_path, "jsonl", text_field="body", id_field="key") as writer:
        writer.write(Record("k1", "orig", "p", 0, None), "cleaned")
    assert orjson.loads((tmp_path / "kept.jsonl").read_bytes()) == {"key": "k1", "body": "cleaned"}


@pytest.mark.parametrize("bad_id", ["../escape.txt", "/etc/passwd", "a/../../b", "a//b", "", "a/"])
def test_txt_ids_escaping_the_folder_get_a_safe_name(tmp_path: Path, bad_id: str) -> None:
    with KeptWriter(tmp_path / "out", "txt") as writer:
        writer.write(Record(bad_id, "x", "p"), "x")
    assert writer.count == 1
    assert not (tmp_path / "escape.txt").exists()
    name = writer.renamed[bad_id]
    assert (tmp_path / "out" / "kept" / name).read_text() == "x"
    names = pq.read_table(tmp_path / "out" / "kept_names.parquet").to_pylist()
    assert names == [{"id": bad_id, "file": f"kept/{name}"}]


def test_txt_id_clashing_with_another_gets_a_safe_name(tmp_path: Path) -> None:
    with KeptWriter(tmp_path, "txt") as writer:
        writer.write(Record("a/b.txt", "1", "p"), "1")
        writer.write(Record("a/b.txt/c", "3", "p"), "3")  # b.txt is a file, not a folder
    assert (tmp_path / "kept" / "a" / "b.txt").read_text() == "1"
    assert (tmp_path / "kept" / writer.renamed["a/b.txt/c"]).read_text() == "3"


def test_parquet_schema_from_first_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tinlap.io.write, "_PARQUET_BATCH_ROWS", 2)
    records = [
        Record("1", "a", "p", 1, {"id": "1", "n": 1, "opt": None}),
        Record("2", "b", "p", 2, {"id": "2", "n": "two", "opt": None}),  # mixed -> strings
        Record("3", "c", "p", 3, {"id": "3", "opt": 5}),  # n missing -> null
        Record("4", "d", "p", 4, {"id": "4", "n": 4, "late": True}),  # late column dropped
        Record("5", "e", "p", 5, {"id": "5", "n": 5}),
    ]
    writer = copy_through(records, tmp_path, "parquet")
    table = pq.read_table(tmp_path / "kept.parquet")
    assert table.schema.names == ["id", "n", "opt", "text"]
    assert table.column("n").to_pylist() == ["1", "two", None, "4", "5"]
    assert table.column("opt").to_pylist() == [None, None, "5", None, None]
    assert table.column("text").to_pylist() == list("abcde")
    assert writer.dropped_columns == {"late"}


def test_parquet_incompatible_later_value_widens_the_column_to_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tinlap.io.write, "_PARQUET_BATCH_ROWS", 1)
    with KeptWriter(tmp_path, "parquet") as w:
        w.write(Record("1", "a", "p", 1, {"n": 1}), "a")
        w.write(Record("2", "b", "p", 2, {"n": "2"}), "b")  # castable: fine
        w.write(Record("3", "c", "p", 3, {"n": "three"}), "c")  # not: the column becomes text
    assert w.widened_columns == {"n"}
    table = pq.read_table(w.path)
    assert table.schema.field("n").type == pa.string()
    assert table.column("n").to_pylist() == ["1", "2", "three"]
    assert table.column("text").to_pylist() == ["a", "b", "c"]


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "parquet"])
def test_nothing_kept_still_gives_valid_output(tmp_path: Path, fmt: str) -> None:
    writer = copy_through([], tmp_path, fmt)
    assert writer.count == 0
    if fmt == "parquet":
        assert pq.read_table(writer.path).num_rows == 0
    elif fmt == "jsonl":
        assert writer.path.read_bytes() == b""
    else:
        assert list(writer.path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "parquet"])
def test_output_appears_only_on_close(tmp_path: Path, fmt: str) -> None:
    with KeptWriter(tmp_path, fmt) as writer:
        writer.write(Record("a.txt", "x", "p"), "x")
        assert not writer.path.exists()
    assert writer.path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [writer.path.name]  # no temp left


@pytest.mark.parametrize("fmt", ["txt", "jsonl", "parquet"])
def test_exception_leaves_no_output(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(RuntimeError), KeptWriter(tmp_path, fmt) as writer:
        writer.write(Record("a.txt", "x", "p"), "x")
        raise RuntimeError("crash mid-run")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="closed"):
        writer.write(Record("b.txt", "y", "p"), "y")


@pytest.mark.parametrize("fmt", ["txt", "jsonl"])
def test_rerun_replaces_previous_output_only_on_success(tmp_path: Path, fmt: str) -> None:
    copy_through([Record("old.txt", "old", "p")], tmp_path, fmt)
    with pytest.raises(RuntimeError), KeptWriter(tmp_path, fmt) as writer:
        writer.write(Record("new.txt", "new", "p"), "new")
        raise RuntimeError
    assert [r.id for r in read_back(writer.path, fmt)] == ["old.txt"]
    copy_through([Record("new.txt", "new", "p")], tmp_path, fmt)
    assert [r.id for r in read_back(writer.path, fmt)] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [writer.path.name]


def test_write_json_atomic(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "summary.json"
    write_json_atomic(path, {"tên": "Việt", "path": Path("a/b"), "n": 3, 1: [1.5]})
    text = path.read_text(encoding="utf-8")
    assert '"tên": "Việt"' in text and "\n  " in text
    assert orjson.loads(text) == {"tên": "Việt", "path": "a/b", "n": 3, "1": [1.5]}
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert orjson.loads(path.read_bytes())["n"] == 3  # the old file survived
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]


def test_write_table_atomic(tmp_path: Path) -> None:
    table = pa.table({"a": [1, 2], "b": ["x", "y"]})
    path = tmp_path / "clusters.parquet"
    write_table_atomic(path, table)
    assert pq.read_table(path).equals(table)
    assert [p.name for p in tmp_path.iterdir()] == ["clusters.parquet"]


def test_unknown_output_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown output format"):
        KeptWriter(tmp_path, "csv")
