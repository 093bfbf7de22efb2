"""The kept corpus at scale: the input's compression kept, split into numbered files of bounded
size (written by the sharded engine's workers in parallel), the same documents either way, and
the output folder's guarantees (staged, committed, an earlier run's files removed by the
manifest)."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner, Result
from helpers import jsonl_bytes, kept_bytes, read_bytes, vntc_exact_sample

from tinlap.apps.cli import main
from tinlap.config import DedupConfig
from tinlap.io.storage import Storage
from tinlap.io.write import KeptWriter, joined_file, parquet_schema
from tinlap.records import Record

MB = 2**20
TINY = "800M"  # for 2 workers: ~600 documents a shard, so many shards and write tasks


@pytest.fixture(scope="module")
def corpus(vntc_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~2,500 real documents (about 7 MB of JSON) with VNTC's exact copies, zstd-compressed."""
    rows = [
        {"id": r["id"], "topic": r["topic"], "text": r["text"]}
        for r in vntc_exact_sample(vntc_path, 2400, 120)
    ]
    path = tmp_path_factory.mktemp("corpus") / "news.jsonl.zst"
    path.write_bytes(zstandard.compress(jsonl_bytes(rows)))
    return path


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The in-memory run, one file, no compression: what every other layout must hold."""
    out = tmp_path_factory.mktemp("reference")
    tinlap("dedup", "-j", "1", corpus, "-o", out, "--output-compression", "none")
    return out


def tinlap(*args: Any, code: int = 0) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{result.exception!r}\n{result.output}") from result.exception
    assert result.exit_code == code, result.output
    return result


def summary(out: Path) -> dict[str, Any]:
    return orjson.loads((out / "summary.json").read_bytes())


def names(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_the_input_compression_is_kept_unless_told_otherwise(
    corpus: Path, reference: Path, tmp_path: Path
) -> None:
    plain = (reference / "kept.jsonl").read_bytes()
    tinlap("dedup", "-j", "1", corpus, "-o", tmp_path / "auto")
    packed = tmp_path / "auto" / "kept.jsonl.zst"
    assert packed.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd
    assert read_bytes(packed) == plain
    assert len(packed.read_bytes()) < len(plain) / 3
    assert summary(tmp_path / "auto")["kept_files"] == ["kept.jsonl.zst"]
    tinlap("dedup", "-j", "1", corpus, "-o", tmp_path / "gz", "--output-compression", "gzip")
    assert gzip.decompress((tmp_path / "gz" / "kept.jsonl.gz").read_bytes()) == plain
    gz_input = tmp_path / "news.jsonl.gz"
    gz_input.write_bytes(gzip.compress(read_bytes(corpus)))
    tinlap("dedup", "-j", "1", gz_input, "-o", tmp_path / "from-gz")
    assert gzip.decompress((tmp_path / "from-gz" / "kept.jsonl.gz").read_bytes()) == plain
    assert (tmp_path / "from-gz" / "clusters.parquet").read_bytes() == (
        reference / "clusters.parquet"
    ).read_bytes()


def test_the_same_input_gives_the_same_compressed_bytes(corpus: Path, tmp_path: Path) -> None:
    for run in ("a", "b"):
        tinlap("dedup", "-j", "1", corpus, "-o", tmp_path / run, "--output-compression", "gzip")
    first, second = ((tmp_path / r / "kept.jsonl.gz").read_bytes() for r in ("a", "b"))
    assert first == second  # no file name or time in the gzip header


def test_a_split_corpus_has_bounded_numbered_files_holding_the_same_documents(
    corpus: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "split"
    tinlap("dedup", "-j", "1", corpus, "-o", out, "--output-shard-size", "1M")
    files = summary(out)["kept_files"]
    assert len(files) >= 2
    assert files == [f"kept-{i:05d}.jsonl.zst" for i in range(len(files))]
    assert [n for n in names(out) if n.startswith("kept")] == files
    for name in files[:-1]:  # closed once they reach the size: at most a document more
        assert MB <= (out / name).stat().st_size < MB + 256 * 1024
    assert kept_bytes(out) == (reference / "kept.jsonl").read_bytes()


def test_the_workers_write_a_split_corpus_in_parallel_with_the_same_documents(
    corpus: Path, reference: Path, tmp_path: Path
) -> None:
    args = ["-j", "2", "--engine", "sharded", "--memory-limit", TINY, "--output-shard-size", "1M"]
    for compression, suffix in (("none", ".jsonl"), ("zstd", ".jsonl.zst")):
        out = tmp_path / compression
        tinlap("dedup", *args, "--output-compression", compression, corpus, "-o", out)
        run = summary(out)
        files = run["kept_files"]
        assert files == [f"kept-{i:05d}{suffix}" for i in range(len(files))]
        assert all((out / name).stat().st_size < MB + 256 * 1024 for name in files)
        assert kept_bytes(out) == (reference / "kept.jsonl").read_bytes()
        assert (out / "clusters.parquet").read_bytes() == (
            reference / "clusters.parquet"
        ).read_bytes()
        assert not (out / ".tinlap-work").exists()
        if compression == "none":  # 2 shards' text a task: several tasks, files of each
            assert run["execution"]["tasks"]["write"]["run"] >= 2
            assert len(files) > run["execution"]["tasks"]["write"]["run"]


# Small budgets: many shards, so the sharded engine joins its one file from many parts.
ENGINES = {
    "in-memory": ["--engine", "in-memory", "-j", "1"],
    "sharded-j1": ["--engine", "sharded", "-j", "1", "--memory-limit", "400M"],
    "sharded-j2": ["--engine", "sharded", "-j", "2", "--memory-limit", TINY],
}


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd", "parquet"])
def test_one_kept_file_is_the_same_from_either_engine_and_any_number_of_workers(
    corpus: Path, reference: Path, tmp_path: Path, compression: str
) -> None:
    """The sharded engine's workers write the parts of a single file, joined in input order: a
    JSONL file is their bytes one after the other (a gzip member or zstd frame each), the same
    bytes or the same once decompressed; a Parquet file is written again from their rows."""
    plain = (reference / "kept.jsonl").read_bytes()
    name, options = {
        "none": ("kept.jsonl", ["--output-compression", "none"]),
        "gzip": ("kept.jsonl.gz", ["--output-compression", "gzip"]),
        "zstd": ("kept.jsonl.zst", ["--output-compression", "zstd"]),
        "parquet": ("kept.parquet", ["--output-format", "parquet"]),
    }[compression]
    single = None
    for engine, args in ENGINES.items():
        out = tmp_path / engine
        tinlap("dedup", *args, *options, corpus, "-o", out)
        run = summary(out)
        assert run["kept_files"] == [name] and run["documents_kept"] == plain.count(b"\n")
        assert [n for n in names(out) if n.startswith("kept")] == [name]
        assert (out / "clusters.parquet").read_bytes() == (
            reference / "clusters.parquet"
        ).read_bytes()
        data = (out / name).read_bytes()
        if engine != "in-memory":
            assert run["execution"]["tasks"]["write"]["run"] >= 4
            assert not (out / ".tinlap-work").exists()
        if compression == "parquet":  # the one writer's bytes, row groups and all
            single = single or data
            assert data == single
            assert pq.read_table(out / name).to_pylist() == [
                orjson.loads(line) for line in plain.splitlines()
            ]
            continue
        if compression == "none":
            assert data == plain
            continue
        assert read_bytes(out / name) == plain  # gzip.decompress; zstandard across frames
        tool = shutil.which(compression)
        if tool:  # gzip -d and zstd -d read on past the first member or frame
            assert subprocess.run([tool, "-dc"], input=data, capture_output=True).stdout == plain
        if engine == "sharded-j2":
            assert several_parts(data, compression)
            assert_readers_read_it_whole(out / name, plain.count(b"\n"), tmp_path)


def several_parts(data: bytes, compression: str) -> bool:
    """Whether ``data`` holds more than one gzip member or zstd frame."""
    if compression == "gzip":
        member = zlib.decompressobj(wbits=31)
    else:
        member = zstandard.ZstdDecompressor().decompressobj()
    member.decompress(data)
    return bool(member.unused_data)


def assert_readers_read_it_whole(path: Path, rows: int, tmp_path: Path) -> None:
    """pandas, pyarrow and Hugging Face datasets read every line of a joined file."""
    import datasets
    import pandas as pd
    import pyarrow.json as pj

    assert len(pd.read_json(path, lines=True)) == rows
    assert pj.read_json(path).num_rows == rows
    loaded = datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf")
    )
    assert loaded.num_rows == rows


@pytest.mark.parametrize("engine", ["in-memory", "sharded"])
def test_a_split_parquet_corpus_keeps_one_schema(
    corpus: Path, reference: Path, tmp_path: Path, engine: str
) -> None:
    out = tmp_path / engine
    scale = ["--memory-limit", TINY] if engine == "sharded" else []
    options = ["--output-format", "parquet", "--output-compression", "none"]
    options += ["--output-shard-size", "1M", "--engine", engine]
    tinlap("dedup", "-j", "2", *scale, *options, corpus, "-o", out)
    files = summary(out)["kept_files"]
    assert len(files) >= 2 and files[0] == "kept-00000.parquet"
    schemas = {pq.read_schema(out / name) for name in files}
    assert len(schemas) == 1
    table = pa.concat_tables(pq.read_table(out / name) for name in files)
    expected = [orjson.loads(line) for line in (reference / "kept.jsonl").read_bytes().splitlines()]
    assert table.to_pylist() == expected


def test_a_later_file_that_widens_a_column_widens_it_in_the_earlier_ones(tmp_path: Path) -> None:
    with KeptWriter(tmp_path, "parquet", shard_size=1) as writer:  # one row group a file
        for n, value in enumerate([1, 2, "three", 4]):
            writer.write(Record(str(n), "x" * 10_000, "p", n, {"n": value}), "x" * 10_000)
    assert writer.files == [f"kept-{i:05d}.parquet" for i in range(4)]
    assert writer.widened_columns == {"n"}
    for name in writer.files:
        assert pq.read_schema(tmp_path / name).field("n").type == pa.string()
    values = [pq.read_table(tmp_path / f).column("n")[0].as_py() for f in writer.files]
    assert values == ["1", "2", "three", "4"]


def test_a_parquet_file_joined_from_parts_is_the_one_a_single_writer_makes(
    tmp_path: Path,
) -> None:
    """Parts written with the schema the driver fixes, one of them widening a column to text
    and dropping a field that appears late, joined: the bytes one writer makes of all rows."""
    rows = [
        (Record(str(n), "", "p", n, {"n": "many" if n == 15_000 else n, "late": n}), f"text {n}")
        if n >= 12_000
        else (Record(str(n), "", "p", n, {"n": n}), f"text {n}")
        for n in range(25_000)
    ]
    with KeptWriter(tmp_path / "single", "parquet", compression="zstd") as single:
        for record, text in rows:
            single.write(record, text)
    assert single.widened_columns == {"n"} and single.dropped_columns == {"late"}
    schema = parquet_schema(rows, DedupConfig(), ids_as_text=False)
    storage = Storage(str(tmp_path / "work"))
    for part in range(0, len(rows), 4000):
        folder = Path(storage.path(f"{part:05d}"))
        with KeptWriter(folder, "parquet", compression="zstd", schema=schema) as writer:
            for record, text in rows[part : part + 4000]:
                writer.write(record, text)
        assert writer.widened_columns == ({"n"} if part == 12_000 else set())
    joined = tmp_path / "joined.parquet"
    with joined_file(storage, joined, "parquet", schema=schema) as append:
        for part in range(0, len(rows), 4000):
            append(f"{part:05d}/kept.parquet")
    assert joined.read_bytes() == (tmp_path / "single" / "kept.parquet").read_bytes()


def test_an_aborted_split_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), KeptWriter(tmp_path, "jsonl", shard_size=10) as writer:
        for n in range(5):
            writer.write(Record(str(n), "text", "p", n), "some text")
        assert len(writer.files) == 5
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_an_earlier_runs_kept_files_are_removed_by_the_manifest(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    tinlap("dedup", "-j", "1", corpus, "-o", out, "--output-shard-size", "1M")
    split = summary(out)["kept_files"]
    assert len(split) >= 2
    tinlap("dedup", "-j", "1", corpus, "-o", out)
    assert [n for n in names(out) if n.startswith("kept")] == ["kept.jsonl.zst"]
    tinlap("dedup", "-j", "1", corpus, "-o", out, "--output-shard-size", "2M")
    assert [n for n in names(out) if n.startswith("kept")] == summary(out)["kept_files"]
    assert len(summary(out)["kept_files"]) < len(split)


def test_an_older_split_beside_foreign_files_is_replaced_with_overwrite(
    corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept-00007.jsonl.zst").write_bytes(b"old")  # tinlap's name, no manifest
    (out / "mine.jsonl").write_bytes(b"{}")
    refused = tinlap("dedup", "-j", "1", corpus, "-o", out, code=5)
    assert "mine.jsonl" in refused.output
    tinlap("dedup", "-j", "1", corpus, "-o", out, "--overwrite")
    assert names(out) == [
        ".tinlap-manifest.json",
        "clusters.parquet",
        "kept.jsonl.zst",
        "mine.jsonl",
        "problems.jsonl",
        "summary.json",
    ]


def test_txt_output_is_neither_compressed_nor_split(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("một văn bản")
    for option in (["--output-compression", "zstd"], ["--output-shard-size", "64M"]):
        result = tinlap("dedup", tmp_path / "in", "-o", tmp_path / "o", *option, code=2)
        assert "txt output is one file per document" in result.output
        assert not (tmp_path / "o").exists()
    tiny = ["--output-format", "jsonl", "--output-shard-size", "1K"]
    result = tinlap("dedup", tmp_path / "in", "-o", tmp_path / "o", *tiny, code=2)
    assert "output shard size must be >= 1 MiB" in result.output


def test_config_files_give_the_output_options(corpus: Path, tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('output-compression = "gzip"\noutput-shard-size = "1M"\n')
    tinlap("dedup", "-j", "1", corpus, "-o", tmp_path / "a", "--config", config)
    recorded = summary(tmp_path / "a")["config"]
    assert recorded["output_compression"] == "gzip" and recorded["output_shard_size"] == MB
    tinlap(
        "dedup", "-j", "1", corpus, "-o", tmp_path / "b", "--config", tmp_path / "a/summary.json"
    )
    assert summary(tmp_path / "b")["kept_files"] == summary(tmp_path / "a")["kept_files"]
    assert summary(tmp_path / "b")["kept_files"][0] == "kept-00000.jsonl.gz"
