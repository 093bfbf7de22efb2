"""WARC / WET input (tinlap.io.warc): records to documents, skipped records counted, bad archives.

The archives are written by the tests with warcio's writer: HTML responses, a 404, a
redirect, an image, requests, metadata, an HTML resource, WET conversions.
"""

from __future__ import annotations

import builtins
import gzip
import io
import json
import random
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import kept_bytes

from tinlap.apps.cli import main
from tinlap.io import html as tinlap_html
from tinlap.io import warc as tinlap_warc
from tinlap.io.read import InputError, discover, read_all
from tinlap.records import ProblemLog, Record

pytest.importorskip("trafilatura")
pytest.importorskip("warcio")

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

TITLE = "Giá vàng hôm nay tăng mạnh sau phiên biến động"
BODY = [
    "Giá vàng hôm nay tăng mạnh sau khi thị trường thế giới biến động trong tuần qua, các "
    "doanh nghiệp kinh doanh vàng tại Hà Nội điều chỉnh giá bán lên cao.",
    "Theo các chuyên gia, xu hướng tăng có thể tiếp tục trong những ngày tới do nhu cầu trú ẩn "
    "an toàn của nhà đầu tư vẫn ở mức cao trên toàn thế giới.",
]
OTHER_TITLE = "Đội tuyển Việt Nam thắng thuyết phục tại Mỹ Đình"
OTHER = [
    "Đội tuyển bóng đá Việt Nam giành chiến thắng thuyết phục trong trận đấu tối qua tại sân "
    "vận động Mỹ Đình trước sự cổ vũ của hàng chục nghìn khán giả.",
    "Huấn luyện viên trưởng cho biết các cầu thủ đã thi đấu với tinh thần rất cao và thực hiện "
    "tốt các chỉ đạo chiến thuật trong suốt chín mươi phút.",
]


def page(title: str = TITLE, body: list[str] = BODY, site: str = "Báo ABC") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body)
    return (
        f"<!DOCTYPE html><html><head><title>{title} - {site}</title></head><body>"
        f"<nav><a href='/'>Trang chủ</a> <a href='/kt'>Kinh tế</a> <a href='/tt'>{site}</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Bản quyền thuộc về {site}</footer></body></html>"
    ).encode()


HTML = [("Content-Type", "text/html; charset=utf-8")]
JPEG = [("Content-Type", "image/jpeg")]
WARC_FIELDS = "application/warc-fields"


class Archive:
    """A WARC being written in memory with warcio (``gzip``: one gzip member per record)."""

    def __init__(self, gz: bool = True) -> None:
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=gz)
        self.writer.write_record(self.writer.create_warcinfo_record("t.warc", {"software": "t"}))

    def response(
        self, uri: str, body: bytes, status: str = "200 OK", headers: list | None = None
    ) -> Archive:
        http = StatusAndHeaders(status, HTML if headers is None else headers, protocol="HTTP/1.1")
        w = self.writer
        get = io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
        w.write_record(w.create_warc_record(uri, "request", payload=get))
        w.write_record(
            w.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http)
        )
        return self

    def record(self, uri: str, kind: str, body: bytes, content_type: str) -> Archive:
        w = self.writer
        w.write_record(
            w.create_warc_record(
                uri, kind, payload=io.BytesIO(body), warc_content_type=content_type
            )
        )
        return self

    def save(self, path: Path) -> Path:
        path.write_bytes(self.buffer.getvalue())
        return path


def crawl() -> Archive:
    """Two copies of one article (different sites), another article, and what is skipped."""
    return (
        Archive()
        .response("https://abc.vn/gia-vang", page())
        .response("https://abc.vn/khong-co", b"<html><body>Not found</body></html>", "404 No")
        .response("https://xyz.vn/kinh-te/gia-vang", page(site="Tạp chí XYZ"))
        .response("https://abc.vn/logo.jpg", b"\xff\xd8\xff\xe0JFIF", headers=JPEG)
        .response("https://abc.vn/cu", b"", "301 Moved Permanently", [("Location", "/moi")])
        .record("https://abc.vn/gia-vang", "metadata", b"fetchTimeMs: 12\r\n", WARC_FIELDS)
        .record("https://abc.vn/bong-da", "resource", page(OTHER_TITLE, OTHER), "text/html")
        .response("https://abc.vn/trong", "<html><head><title>Trống</title></head></html>".encode())
    )


def read(path: Path, **kw: Any) -> tuple[list[Record], ProblemLog]:
    problems = ProblemLog()
    return list(read_all(discover([path]), problems, **kw)), problems


def kinds(problems: ProblemLog) -> dict[str, int]:
    return problems.summary()["by_kind"]


def cli(*args: Any) -> None:
    result = CliRunner().invoke(main, [*map(str, args), "-j", "1", "-q"])
    assert result.exit_code == 0, (result.output, result.exception)


def kept_rows(out: Path) -> dict[str, dict[str, Any]]:
    # a .warc.gz input gives kept.jsonl.gz (the kept corpus keeps the input's compression)
    rows = [orjson.loads(line) for line in kept_bytes(out).splitlines()]
    return {row["id"]: row for row in rows}


# ------------------------------------------------------------------------------------- records


@pytest.mark.parametrize("gz", [True, False])
def test_records_become_documents_with_url_ids(tmp_path: Path, gz: bool) -> None:
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    archive = Archive(gz)
    archive.response("https://abc.vn/gia-vang", page())
    archive.record("https://abc.vn/bong-da", "resource", page(OTHER_TITLE, OTHER), "text/html")
    records, problems = read(archive.save(path))
    assert [r.id for r in records] == ["https://abc.vn/gia-vang", "https://abc.vn/bong-da"]
    assert records[0].text.split("\n") == [TITLE, *BODY]
    assert records[1].text.split("\n") == [OTHER_TITLE, *OTHER]
    fields = records[0].fields
    assert fields["url"] == "https://abc.vn/gia-vang" and fields["title"] == TITLE
    assert fields["warc_date"].startswith("20")
    assert [r.line for r in records] == [3, 4]  # warcinfo, request, response, resource
    assert kinds(problems) == {"warning:skipped_record_type": 2}  # warcinfo + request


def test_skipped_records_counted_by_kind(tmp_path: Path) -> None:
    records, problems = read(crawl().save(tmp_path / "crawl.warc.gz"))
    assert [r.id for r in records] == [
        "https://abc.vn/gia-vang",
        "https://xyz.vn/kinh-te/gia-vang",
        "https://abc.vn/bong-da",
        "https://abc.vn/trong",
    ]
    assert records[-1].text == "" and records[-1].fields["title"] == "Trống"
    assert kinds(problems) == {
        "warning:no_text": 1,
        "warning:skipped_non_html": 1,  # the image
        "warning:skipped_record_type": 8,  # warcinfo, 6 requests, metadata
        "warning:skipped_status": 2,  # 404, 301
    }
    messages = {p.kind: p.message for p in problems.problems}
    assert "404 1" in messages["skipped_status"] and "301 1" in messages["skipped_status"]
    assert "image/jpeg 1" in messages["skipped_non_html"]
    assert "request 6" in messages["skipped_record_type"]
    assert "https://abc.vn/trong: no extractable text" in messages["no_text"]
    # one message per file and kind, however many records
    assert len(problems.problems) == 4


def test_wet_conversion_records_are_plain_text(tmp_path: Path) -> None:
    archive = Archive()
    text = "\n".join([TITLE, *BODY])
    archive.record("https://abc.vn/a", "conversion", text.encode(), "text/plain")
    archive.record("https://abc.vn/b", "conversion", b"\xff\xfebad utf-8", "text/plain")
    archive.record("https://abc.vn/c", "conversion", b"  \n", "text/plain")
    records, problems = read(archive.save(tmp_path / "crawl.warc.wet.gz"))
    assert [(r.id, r.text) for r in records] == [
        ("https://abc.vn/a", text),
        ("https://abc.vn/b", "\ufffd\ufffdbad utf-8"),
        ("https://abc.vn/c", ""),
    ]
    assert records[0].fields["url"] == "https://abc.vn/a" and "title" not in records[0].fields
    assert kinds(problems) == {
        "warning:invalid_utf8": 1,
        "warning:no_text": 1,
        "warning:skipped_record_type": 1,
    }


def test_wet_needs_no_trafilatura(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    archive = Archive()
    archive.record("https://abc.vn/a", "conversion", "\n".join(BODY).encode(), "text/plain")
    path = archive.save(tmp_path / "crawl.wet.gz")
    real_import = builtins.__import__

    def no_trafilatura(name: str, *args: Any, **kw: Any) -> Any:
        if name.startswith("trafilatura"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kw)

    tinlap_html._trafilatura.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    try:
        records, _ = read(path)
        assert [r.text for r in records] == ["\n".join(BODY)]
        html_warc = Archive().response("https://abc.vn/a", page()).save(tmp_path / "h.warc")
        with pytest.raises(InputError, match=r"tinlap\[html\]"):
            read(html_warc)
    finally:
        monkeypatch.undo()
        tinlap_html._trafilatura.cache_clear()


def test_http_encodings_and_charset(tmp_path: Path) -> None:
    latin = "<html><body><article><p>" + "Déjà vu, une très longue phrase. " * 8 + "</p></article>"
    archive = Archive()
    archive.response(
        "https://abc.vn/gz",
        gzip.compress(page()),
        headers=[*HTML, ("Content-Encoding", "gzip")],
    )
    archive.response(
        "https://fr.example/cp1252",
        (latin + "</body></html>").encode("cp1252"),
        headers=[("Content-Type", "text/html; charset=windows-1252")],
    )
    archive.response("https://abc.vn/no-type", page(OTHER_TITLE, OTHER), headers=[])
    archive.response("https://abc.vn/data", b'{"a": 1}', headers=[])
    records, problems = read(archive.save(tmp_path / "crawl.warc.gz"))
    assert [r.id for r in records] == [
        "https://abc.vn/gz",
        "https://fr.example/cp1252",
        "https://abc.vn/no-type",
    ]
    assert records[0].text.startswith(TITLE)
    assert "Déjà vu, une très longue phrase." in records[1].text
    assert records[2].text.startswith(OTHER_TITLE)
    assert kinds(problems)["warning:skipped_non_html"] == 1


def test_repeated_uri_renamed(tmp_path: Path) -> None:
    archive = Archive().response("https://abc.vn/a", page()).response("https://abc.vn/a", page())
    records, problems = read(archive.save(tmp_path / "crawl.warc"))
    assert [r.id for r in records] == ["https://abc.vn/a", "https://abc.vn/a#2"]
    assert kinds(problems)["warning:duplicate_id"] == 1


# ----------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_archive_keeps_records_before_it(tmp_path: Path, gz: bool) -> None:
    archive = Archive(gz)
    for i in range(6):
        archive.response(f"https://abc.vn/{i}", page(f"{TITLE} {i}"))
    data = archive.buffer.getvalue()
    path = tmp_path / ("cut.warc.gz" if gz else "cut.warc")
    path.write_bytes(data[: int(len(data) * 0.6)])
    records, problems = read(path)
    assert 1 <= len(records) < 6
    assert [r.id for r in records] == [f"https://abc.vn/{i}" for i in range(len(records))]
    (error,) = [p for p in problems.problems if p.severity == "error"]
    assert error.kind == "truncated" and error.path == str(path)
    last = records[-1].id
    assert f"({last})" in error.message or "record" in error.message
    assert f"the {len(records)} documents before it were kept" in error.message


def test_every_cut_is_reported_or_complete(tmp_path: Path) -> None:
    """Cut a small archive everywhere: never a crash; a lost record is always an error."""
    archive = Archive(gz=False)
    archive.response("https://abc.vn/0", page()).response("https://abc.vn/1", page())
    data = archive.buffer.getvalue()
    path = tmp_path / "cut.warc"
    for cut in range(1, len(data), 37):
        path.write_bytes(data[:cut])
        problems = ProblemLog()
        records = list(read_all(discover([path]), problems))
        errors = [p.kind for p in problems.problems if p.severity == "error"]
        assert len(records) == 2 or errors in (["truncated"], ["unreadable"]), (cut, errors)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.warc.gz").write_bytes(gzip.compress(b""))
    records, problems = read(tmp_path / "empty.warc.gz")
    assert records == [] and kinds(problems) == {"warning:empty_file": 1}


def test_not_a_warc_and_oversized_record(tmp_path: Path) -> None:
    junk = tmp_path / "junk.warc"
    junk.write_bytes(b"hello, this is not a web archive\n" * 10)
    _, problems = read(junk)
    assert [(p.kind, p.severity) for p in problems.problems] == [("unreadable", "error")]

    archive = Archive()
    archive.response("https://abc.vn/big", page(body=BODY * 100))
    archive.response("https://abc.vn/small", page())
    records, problems = read(archive.save(tmp_path / "big.warc.gz"), max_page_bytes=20_000)
    assert [r.id for r in records] == ["https://abc.vn/small"]
    (error,) = [p for p in problems.problems if p.severity == "error"]
    assert error.kind == "too_large" and error.line == 3 and "https://abc.vn/big" in error.message


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = Archive().response("https://abc.vn/a", page()).save(tmp_path / "a.warc.gz")
    real_import = builtins.__import__

    def no_warcio(name: str, *args: Any, **kw: Any) -> Any:
        if name.startswith("warcio"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kw)

    tinlap_warc._warcio.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_warcio)
    try:
        with pytest.raises(InputError, match=r"tinlap\[warc\]"):
            read(path)
    finally:
        monkeypatch.undo()
        tinlap_warc._warcio.cache_clear()
    assert len(read(path)[0]) == 1


# ------------------------------------------------------------------------------------------ CLI


def test_cli_dedup_warc(tmp_path: Path) -> None:
    crawl().save(tmp_path / "crawl.warc.gz")
    archive = Archive()
    words = " ".join(OTHER + BODY).split()
    for i in range(4):  # unrelated texts: the words of the others, shuffled
        text = " ".join(random.Random(i).sample(words, len(words)))
        archive.response(f"https://abc.vn/{i}", page(f"Bài {i}", [text]))
    data = archive.buffer.getvalue()
    (tmp_path / "cut.warc.gz").write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "out"
    cli("dedup", tmp_path / "crawl.warc.gz", tmp_path / "cut.warc.gz", "-o", out)

    kept = kept_rows(out)
    copies = {"https://abc.vn/gia-vang", "https://xyz.vn/kinh-te/gia-vang"}
    assert len(copies & set(kept)) == 1  # one copy of the article removed
    assert {"https://abc.vn/bong-da", "https://abc.vn/trong", "https://abc.vn/0"} <= set(kept)
    row = kept["https://abc.vn/bong-da"]
    assert row["url"] == row["id"] and row["title"] == OTHER_TITLE and "warc_date" in row
    assert kept["https://abc.vn/trong"]["text"] == ""
    clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    assert {r["id"] for r in clusters} == copies

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["output_format"] == "jsonl"
    by_kind = summary["input_problems"]["by_kind"]
    assert by_kind["warning:skipped_status"] == 2
    assert by_kind["warning:skipped_non_html"] == 1
    assert by_kind["warning:skipped_record_type"] > 8  # and the cut archive's
    assert by_kind["warning:no_text"] == 1
    assert by_kind["error:truncated"] == 1
    messages = summary["input_problems"]["messages"]
    assert any("cut.warc.gz" in m and "truncated" in m for m in messages)
