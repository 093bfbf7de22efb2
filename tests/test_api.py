"""The Python API decides as the CLI does, on every input type, and hands back the input's type
with its other columns."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import tinlap
from tinlap.apps.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    data = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    for i, row in enumerate(data):
        row["n"] = i  # a column tinlap does not use, to be kept
    return data


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory: pytest.TempPathFactory, rows: list[dict]) -> Path:
    """The CLI's run on the same rows, written as JSONL."""
    folder = tmp_path_factory.mktemp("cli")
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = folder / "out"
    result = CliRunner().invoke(main, ["dedup", str(path), "-o", str(out), "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    return out


def _cli_kept(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "kept.jsonl").read_text("utf-8").splitlines()]


def _check(result: tinlap.DedupResult, out: Path, kept_rows: list[dict]) -> None:
    assert result.clusters.equals(pq.read_table(out / "clusters.parquet"))
    assert kept_rows == _cli_kept(out)
    cli_summary = json.loads((out / "summary.json").read_text())
    for key in ("documents_read", "documents_kept", "documents_removed", "removed_by_reason"):
        assert result.summary[key] == cli_summary[key]
    assert result.summary["matching"] == cli_summary["matching"]


def test_dicts(rows: list[dict], cli_out: Path) -> None:
    result = tinlap.dedup(iter(rows))  # any iterable
    assert isinstance(result.kept, list)
    _check(result, cli_out, result.kept)
    assert rows[0]["text"] == json.loads(SAMPLE.read_text("utf-8").splitlines()[0])["text"]


def test_arrow(rows: list[dict], cli_out: Path) -> None:
    table = pa.Table.from_pylist(rows)
    result = tinlap.dedup(table)
    assert isinstance(result.kept, pa.Table)
    assert result.kept.schema == table.schema
    _check(result, cli_out, result.kept.to_pylist())


def test_pandas(rows: list[dict], cli_out: Path) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(rows, index=[f"r{i}" for i in range(len(rows))])
    result = tinlap.dedup(df)
    assert isinstance(result.kept, pd.DataFrame)
    assert list(result.kept.columns) == list(df.columns)
    kept_ids = set(result.kept["id"])
    pairs = zip(df.index, df["id"], strict=True)
    assert list(result.kept.index) == [i for i, d in pairs if d in kept_ids]
    _check(result, cli_out, result.kept.to_dict("records"))


def test_polars(rows: list[dict], cli_out: Path) -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(rows)
    result = tinlap.dedup(df)
    assert isinstance(result.kept, pl.DataFrame)
    assert result.kept.schema == df.schema
    _check(result, cli_out, result.kept.to_dicts())


def test_datasets(rows: list[dict], cli_out: Path) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(rows)
    result = tinlap.dedup(ds)
    assert isinstance(result.kept, datasets.Dataset)
    assert result.kept.features == ds.features
    _check(result, cli_out, result.kept.to_list())


def test_paths(cli_out: Path, tmp_path: Path) -> None:
    source = cli_out.parent / "in.jsonl"
    result = tinlap.dedup(str(source), workers=1)
    assert isinstance(result.kept, pa.Table)
    _check(result, cli_out, result.kept.to_pylist())
    written = tinlap.dedup([source], output=tmp_path / "o")
    assert written.output == tmp_path / "o" and (tmp_path / "o" / "summary.json").is_file()


def test_sharded_engine_same_decisions(rows: list[dict], cli_out: Path) -> None:
    """A table too large for the memory budget goes through the sharded engine on a
    temporary copy: the same decisions and kept rows."""
    result = tinlap.dedup(pa.Table.from_pylist(rows), engine="sharded")
    _check(result, cli_out, result.kept.to_pylist())


def test_strings(rows: list[dict]) -> None:
    texts = [r["text"] for r in rows]
    result = tinlap.dedup(texts)
    assert all(isinstance(t, str) for t in result.kept)
    by_id = tinlap.dedup([{"id": str(i), "text": t} for i, t in enumerate(texts)])
    assert result.clusters.equals(by_id.clusters)
    assert result.kept == [r["text"] for r in by_id.kept]


def test_settings_by_cli_names(rows: list[dict], tmp_path: Path) -> None:
    table = pa.Table.from_pylist(rows)
    strict = tinlap.dedup(table, jaccard=0.9, containment=0.95, keep="first", no_learn=True)
    config = strict.summary["config"]
    assert config["jaccard_threshold"] == 0.9 and config["containment_threshold"] == 0.95
    assert config["keep_policy"] == "first" and config["learn_boilerplate"] is False
    same = tinlap.dedup(table, jaccard_threshold=0.9, containment_threshold=0.95,
                        keep_policy="first", learn_boilerplate=False)
    assert same.clusters.equals(strict.clusters)
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(strict.summary))
    again = tinlap.dedup(table, config=summary)
    assert again.summary["config"] == config and again.clusters.equals(strict.clusters)
    original = tinlap.dedup(table, keep_original_text=True)
    assert {r["text"] for r in original.kept.to_pylist()} <= {r["text"] for r in rows}
    with pytest.raises(ValueError, match="unknown setting 'jacard'"):
        tinlap.dedup(table, jacard=0.5)
    with pytest.raises(ValueError, match="jaccard-threshold must be in"):
        tinlap.dedup(table, jaccard=2.0)


def test_fields_and_bad_rows() -> None:
    pd = pytest.importorskip("pandas")
    text = "Một câu chuyện rất dài về thời tiết hôm nay ở Hà Nội, trời mưa to và gió lớn."
    df = pd.DataFrame(
        {"url": ["a", "b", "c", "d"], "content": [text, text, None, "khác hẳn"], "x": [1, 2, 3, 4]}
    )
    result = tinlap.dedup(df, text_field="content", id_field="url")
    assert list(result.kept["url"]) == ["a", "d"]  # c has no text: no document, reported
    assert result.removed_ids == ["b"]
    assert result.summary["input_problems"]["by_kind"] == {"error:missing_text": 1}
    with pytest.raises(ValueError, match="no 'text' column"):
        tinlap.dedup(df)
    with pytest.raises(TypeError, match="cannot deduplicate"):
        tinlap.dedup(42)


def test_clean(rows: list[dict], cli_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "cleaned"
    source = cli_out.parent / "in.jsonl"
    cli = CliRunner().invoke(main, ["clean", str(source), "-o", str(out), "-q", "-j", "1"])
    assert cli.exit_code == 0, cli.output
    result = tinlap.clean(pa.Table.from_pylist(rows))
    assert result.cleaned.to_pylist() == _cli_kept(out)
    assert result.removed_lines.equals(pq.read_table(out / "removed_lines.parquet"))
    assert result.summary["lines_removed"] == json.loads((out / "summary.json").read_text())[
        "lines_removed"
    ]


def test_explain(rows: list[dict], cli_out: Path) -> None:
    clusters = pq.read_table(cli_out / "clusters.parquet").to_pylist()
    removed = next(r for r in clusters if not r["kept"])
    by_id = {r["id"]: r["text"] for r in rows}
    recorded = tinlap.explain(removed["id"], removed["duplicate_of"], output_dir=cli_out)
    assert recorded["scores"]["jaccard"] == pytest.approx(removed["jaccard"])
    assert recorded["decision"]["removed"] == removed["id"]
    texts = tinlap.explain(by_id[removed["id"]], by_id[removed["duplicate_of"]])
    assert texts["schema"] == "tinlap.apps.explain/1"
    assert texts["a"]["id"] == "a" and texts["decision"]["reason"] in ("exact", "near", "contained")


def test_index(rows: list[dict], tmp_path: Path) -> None:
    with tinlap.Index.create(tmp_path / "idx", jaccard=0.5, no_clean=False) as index:
        verdicts = index.add(pa.Table.from_pylist(rows[:40]))
        assert len(verdicts) == 40 and index.stats()["documents"] >= 1
    with tinlap.Index.open(tmp_path / "idx") as index:
        assert index.settings["jaccard_threshold"] == 0.5
        checked = index.check([rows[0]["text"], "một văn bản hoàn toàn mới"])
        assert checked[0]["duplicate_of"] is not None and checked[1]["duplicate_of"] is None
        assert index.document(str(rows[0]["id"])) is not None
    with pytest.raises(ValueError, match="not index settings"):
        tinlap.Index.create(tmp_path / "other", keep="first")
