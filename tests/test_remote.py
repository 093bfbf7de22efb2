"""Inputs and --output on an object store (S3 through a local moto server): the same decisions
and the same kept corpus as the local run on the same files, the output folder's guarantees
kept, and clear errors (exit code 3 for a missing bucket or key)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner, Result
from helpers import jsonl_bytes, vntc_exact_sample

from tinlap.apps.cli import main
from tinlap.io.read import discover
from tinlap.io.streams import InputError

pytest.importorskip("trafilatura")
pytest.importorskip("warcio")

BUCKET = "s3://tinlap-test"


def page(title: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<html><head><title>{title}</title></head><body><nav>Trang chủ | Thời sự</nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>© Báo XYZ</footer></body></html>"
    ).encode()


def warc(uri: str, body: bytes) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    http = StatusAndHeaders(
        "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
    )
    writer.write_record(
        writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http)
    )
    return buffer.getvalue()


@pytest.fixture(scope="module")
def corpus(vntc_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real documents (with VNTC's own exact copies) in every input format, and copies of some
    of them across formats: a .txt, an HTML page, a WARC response and CSV/TSV rows."""
    rows = [
        {"id": r["id"], "topic": r["topic"], "text": r["text"]}
        for r in vntc_exact_sample(vntc_path, 300, 20)
    ]
    root = tmp_path_factory.mktemp("corpus")
    news = root / "news"
    (news / "pages").mkdir(parents=True)
    (news / "a.jsonl.zst").write_bytes(zstandard.compress(jsonl_bytes(rows[:100])))
    (news / "b.jsonl.gz").write_bytes(gzip.compress(jsonl_bytes(rows[100:200])))
    pq.write_table(pa.Table.from_pylist(rows[200:260]), news / "c.parquet")
    feather.write_feather(pa.Table.from_pylist(rows[260:300]), news / "d.arrow")
    (news / "e.jsonl").write_bytes(jsonl_bytes(rows[300:]))
    (news / "pages" / "copy.txt").write_text(rows[5]["text"], encoding="utf-8")
    (news / "pages" / "copy.html").write_bytes(page("Bản sao", rows[7]["text"]))
    (news / "crawl.warc.gz").write_bytes(warc("https://xyz.vn/a", page("Tin", rows[9]["text"])))
    reposts = [  # last paragraph dropped
        {"id": f"repost-{r['id']}", "text": "\n".join(r["text"].split("\n")[:-1])}
        for r in rows[20:120:5]
        if r["text"].count("\n") > 3
    ]
    pcsv.write_csv(pa.Table.from_pylist(reposts[::2]), root / "extra.csv")
    tsv = pcsv.WriteOptions(delimiter="\t")
    pcsv.write_csv(pa.Table.from_pylist(reposts[1::2]), root / "extra.tsv", tsv)
    return root


def tinlap(*args: Any, code: int = 0) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{result.exception!r}\n{result.output}") from result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def upload(s3: Any, local: Path, prefix: str) -> None:
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        s3.put_file(str(path), f"{prefix}/{path.relative_to(local).as_posix()}")


def s3fs() -> Any:
    import fsspec

    return fsspec.filesystem("s3", skip_instance_cache=True)


def kept_rows(data: bytes) -> list[dict[str, Any]]:
    text = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return [orjson.loads(line) for line in text.splitlines()]


def test_s3_input_and_output_give_the_local_decisions_and_corpus(
    corpus: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    s3 = s3fs()
    upload(s3, corpus, f"{BUCKET}/in")
    local = tmp_path / "local"
    inputs = ["news", "extra.csv", "extra.tsv"]
    tinlap("dedup", "-j", "1", *[corpus / i for i in inputs], "-o", local)
    remote = f"{BUCKET}/out/"
    tinlap("dedup", "-j", "1", *[f"{BUCKET}/in/{i}" for i in inputs], "-o", remote)

    names = sorted(p.rsplit("/", 1)[1] for p in s3.ls(f"{BUCKET}/out", detail=False))
    assert names == [
        ".tinlap-manifest.json",
        "clusters.parquet",
        "kept.jsonl.zst",  # the first input's format and compression
        "problems.jsonl",
        "summary.json",
    ]
    clusters = pq.read_table(io.BytesIO(s3.cat_file(f"{BUCKET}/out/clusters.parquet")))
    assert clusters.equals(pq.read_table(local / "clusters.parquet"))
    assert {"exact", "near"} <= set(clusters.column("reason").to_pylist())
    clustered = set(clusters.column("id").to_pylist())
    assert {"pages/copy.txt", "pages/copy.html", "https://xyz.vn/a"} <= clustered  # copies found
    for table in ("extra.csv", "extra.tsv"):  # reposts of documents in other files
        options = pcsv.ParseOptions(delimiter="\t" if table.endswith("tsv") else ",")
        ids = pcsv.read_csv(corpus / table, parse_options=options).column("id").to_pylist()
        assert clustered & set(ids), table
    kept = s3.cat_file(f"{BUCKET}/out/kept.jsonl.zst")
    assert kept == (local / "kept.jsonl.zst").read_bytes()
    summary = orjson.loads(s3.cat_file(f"{BUCKET}/out/summary.json"))
    mine = orjson.loads((local / "summary.json").read_bytes())
    for key in ("documents_read", "documents_kept", "removed_by_reason", "clusters"):
        assert summary[key] == mine[key], key
    assert len(kept_rows(kept)) == summary["documents_kept"]
    assert all(name.startswith(f"{BUCKET}/in/") for name in summary["inputs"])
    assert len(summary["inputs"]) == len(mine["inputs"]) == 10
    formats = {Path(n).name.split(".", 1)[1] for n in summary["inputs"]}
    assert formats == {"jsonl.zst", "jsonl.gz", "parquet", "arrow", "jsonl", "txt", "html"} | {
        "warc.gz",
        "csv",
        "tsv",
    }


def test_the_sharded_engine_reads_s3_in_worker_processes(
    corpus: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    s3 = s3fs()
    upload(s3, corpus / "news", f"{BUCKET}/news")
    local = sorted((corpus / "news").glob("*.jsonl*"))
    tinlap("dedup", "-j", "2", "--engine", "sharded", *local, "-o", tmp_path / "local")
    remote = f"{BUCKET}/news/*.jsonl*"
    tinlap("dedup", "-j", "2", "--engine", "sharded", remote, "-o", f"{BUCKET}/sharded")
    assert (
        s3.cat_file(f"{BUCKET}/sharded/clusters.parquet")
        == (tmp_path / "local" / "clusters.parquet").read_bytes()
    )
    assert (
        s3.cat_file(f"{BUCKET}/sharded/kept.jsonl.zst")
        == (tmp_path / "local" / "kept.jsonl.zst").read_bytes()
    )
    # work storage in the bucket: the kept file is joined from parts the workers stored there
    args = ["dedup", "-j", "2", "--engine", "sharded", "--memory-limit", "800M", *local, "-o"]
    tinlap(*args, tmp_path / "s3-work", "--work", f"{BUCKET}/work")
    tinlap(*args, tmp_path / "local-work")
    run = orjson.loads((tmp_path / "s3-work" / "summary.json").read_bytes())
    assert run["execution"]["tasks"]["write"]["run"] >= 2
    assert (tmp_path / "s3-work" / "kept.jsonl.zst").read_bytes() == (
        tmp_path / "local-work" / "kept.jsonl.zst"
    ).read_bytes()


def test_a_remote_output_is_replaced_by_manifest_and_foreign_objects_stay(
    corpus: Path, s3_endpoint: str
) -> None:
    s3 = s3fs()
    news = corpus / "news" / "e.jsonl"
    out = f"{BUCKET}/replace"
    tinlap("dedup", "-j", "1", news, "-o", out)
    assert s3.exists(f"{out}/kept.jsonl")
    s3.pipe_file(f"{out}/notes.txt", b"mine")
    refused = tinlap("dedup", "-j", "1", news, "-o", out, "--output-compression", "gzip", code=5)
    assert "notes.txt" in refused.output and "tinlap did not write" in refused.output
    assert s3.exists(f"{out}/kept.jsonl") and not s3.exists(f"{out}/kept.jsonl.gz")
    tinlap("dedup", "-j", "1", news, "-o", out, "--output-compression", "gzip", "--overwrite")
    names = sorted(p.rsplit("/", 1)[1] for p in s3.ls(out, detail=False))
    assert "kept.jsonl.gz" in names and "kept.jsonl" not in names  # the earlier run's: gone
    assert s3.cat_file(f"{out}/notes.txt") == b"mine"  # never deleted
    assert not any(n.startswith((".tinlap-staging", ".tinlap-commit")) for n in names)
    manifest = orjson.loads(s3.cat_file(f"{out}/.tinlap-manifest.json"))
    assert "kept.jsonl.gz" in manifest["files"] and "notes.txt" not in manifest["files"]


def test_an_interrupted_remote_commit_is_finished_by_the_next_run(
    corpus: Path, s3_endpoint: str
) -> None:
    s3 = s3fs()
    out = f"{BUCKET}/journal"
    s3.pipe_file(f"{out}/.tinlap-staging-1-abcd/summary.json", b"{}")
    journal = {"staging": ".tinlap-staging-1-abcd", "files": ["summary.json"], "remove": []}
    s3.pipe_file(f"{out}/.tinlap-commit.json", orjson.dumps(journal))
    from tinlap.io.publish import RemoteOutput

    RemoteOutput(out)  # finishes the switch it finds
    assert s3.cat_file(f"{out}/summary.json") == b"{}"
    assert not s3.exists(f"{out}/.tinlap-commit.json")
    assert not s3.exists(f"{out}/.tinlap-staging-1-abcd/summary.json")


def test_missing_bucket_or_key_is_exit_code_3_naming_it(tmp_path: Path, s3_endpoint: str) -> None:
    missing_key = tinlap("dedup", f"{BUCKET}/nothing/here.jsonl", "-o", tmp_path / "o", code=3)
    assert f"{BUCKET}/nothing/here.jsonl: no such file or folder" in missing_key.output
    no_bucket = tinlap("dedup", "s3://no-such-bucket/x.jsonl", "-o", tmp_path / "o", code=3)
    assert "s3://no-such-bucket/x.jsonl" in no_bucket.output
    no_match = tinlap("dedup", f"{BUCKET}/*.parquet", "-o", tmp_path / "o", code=3)
    assert "no files match this pattern" in no_match.output
    assert not (tmp_path / "o").exists()


def test_an_output_bucket_that_does_not_exist_is_refused_before_any_work(
    corpus: Path, s3_endpoint: str
) -> None:
    result = tinlap("dedup", corpus / "news" / "e.jsonl", "-o", "s3://no-such-bucket/o", code=1)
    assert "no bucket 'no-such-bucket'" in result.output


def test_txt_output_cannot_go_to_an_object_store(corpus: Path, s3_endpoint: str) -> None:
    result = tinlap(
        "dedup", corpus / "news" / "pages", "-o", f"{BUCKET}/txt", "--format", "txt", code=2
    )
    assert "--output-format jsonl or parquet" in result.output


def test_a_protocol_without_its_extra_names_the_extra() -> None:
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed")
    with pytest.raises(InputError, match=r"pip install 'tinlap\[gcs\]'"):
        discover(["gs://bucket/corpus/"])
    result = tinlap("dedup", "gs://bucket/corpus/", "-o", "unused", code=3)
    assert "tinlap[gcs]" in result.output


def test_file_urls_are_local_paths(corpus: Path, tmp_path: Path) -> None:
    found = discover([f"file://{corpus / 'news' / 'e.jsonl'}"])
    assert [s.path for s in found] == [corpus / "news" / "e.jsonl"]


def test_the_python_api_reads_and_writes_urls(corpus: Path, s3_endpoint: str) -> None:
    import tinlap

    s3 = s3fs()
    s3.put_file(str(corpus / "news" / "a.jsonl.zst"), f"{BUCKET}/api-in/a.jsonl.zst")
    local = tinlap.dedup(str(corpus / "news" / "a.jsonl.zst"), workers=1)
    result = tinlap.dedup(f"{BUCKET}/api-in/a.jsonl.zst", output=f"{BUCKET}/api-out", workers=1)
    assert result.output == f"{BUCKET}/api-out"
    assert result.kept.equals(local.kept) and result.clusters.equals(local.clusters)
    assert s3.exists(f"{BUCKET}/api-out/kept.jsonl.zst")
