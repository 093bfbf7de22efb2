"""The storage root: atomic writes, completion markers, damaged files detected."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tinlap.io.storage import CorruptIntermediate, Storage, StorageError, producer_of


def table(n: int = 5000) -> pa.Table:
    return pa.table({"doc": list(range(n)), "text": [f"văn bản {i}" for i in range(n)]})


def test_a_table_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path / "root"))
    storage.write_table("sketch/00003/docs.parquet", table())
    assert storage.read_table("sketch/00003/docs.parquet").equals(table())
    assert [p.name for p in (tmp_path / "root" / "sketch" / "00003").iterdir()] == ["docs.parquet"]
    assert storage.usage() > 0
    assert producer_of("sketch/00003/docs.parquet") == ("sketch", 3)
    assert producer_of("run.json") is None


@pytest.mark.parametrize("root", ["folder", "memory://tinlap-test-columns"])
def test_chosen_columns_are_read_alone_from_a_folder_or_an_object_store(
    tmp_path: Path, root: str
) -> None:
    storage = Storage(str(tmp_path) if root == "folder" else root)
    storage.write_table("sketch/00000/docs.parquet", table())
    got = storage.read_table("sketch/00000/docs.parquet", ["text"])
    assert got.column_names == ["text"] and got.column("text").equals(table().column("text"))
    batches = list(storage.iter_batches("sketch/00000/docs.parquet", 1000, ["doc"]))
    assert sum(b.num_rows for b in batches) == 5000 and batches[0].schema.names == ["doc"]


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_file_is_detected_not_believed(tmp_path: Path, damage: str) -> None:
    storage = Storage(str(tmp_path))
    storage.write_table("exact/00000/members.parquet", table())
    path = tmp_path / "exact" / "00000" / "members.parquet"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptIntermediate, match=r"exact/00000/members\.parquet is corrupt"):
        storage.read_table("exact/00000/members.parquet")
    with pytest.raises(CorruptIntermediate):
        list(storage.iter_batches("exact/00000/members.parquet"))


def test_markers_record_results_and_discarding_forgets_the_task(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    assert storage.finished("verify", 2) is None
    storage.write_table("verify/00002/edges.parquet", table(3))
    storage.mark_finished("verify", 2, {"edges": 3})
    assert storage.finished("verify", 2) == {"edges": 3}
    (tmp_path / "verify" / "00002" / "_SUCCESS").write_bytes(b"{trunc")
    assert storage.finished("verify", 2) is None  # a damaged marker: the task runs again
    storage.discard_task("verify", 2)
    assert not (tmp_path / "verify" / "00002").exists()


def test_a_missing_output_of_a_finished_task_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CorruptIntermediate, match="missing although its task finished"):
        Storage(str(tmp_path)).read_table("ship/00000/to-0001.parquet")


def test_an_unknown_protocol_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="cannot use storage root"):
        Storage("nosuchprotocol://bucket/x")


def test_memory_filesystem_works_like_a_folder() -> None:
    storage = Storage("memory://tinlap-test-root")
    storage.write_json("run.json", {"a": 1})
    assert storage.read_json("run.json") == {"a": 1}
    assert storage.listdir("") == ["run.json"]
    storage.remove("")
    assert not storage.exists("run.json")
