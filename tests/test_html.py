"""HTML input: extraction (tinlap.io.html), .html files and --html-field through read and the CLI.

Every page is written by the tests themselves: a site's chrome (menu, related links, footer)
around an article (title + paragraphs), plain or gzipped, plus each kind of bad page.
"""

from __future__ import annotations

import builtins
import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tinlap.apps.cli import main
from tinlap.engines.executors import LocalExecutor
from tinlap.io import html as tinlap_html
from tinlap.io.html import (
    Extracted,
    ExtractionTimeout,
    Page,
    extract,
    extract_bounded,
    page_records,
)
from tinlap.io.read import FORMATS, InputError, discover, read_all, read_source
from tinlap.records import ProblemLog, Record

pytest.importorskip("trafilatura")

TITLE = "Giá vàng hôm nay tăng mạnh sau phiên biến động"
PARAGRAPHS = [
    "Giá vàng hôm nay tăng mạnh sau khi thị trường thế giới biến động trong tuần qua, các "
    "doanh nghiệp kinh doanh vàng tại Hà Nội điều chỉnh giá bán lên cao.",
    "Theo các chuyên gia, xu hướng tăng có thể tiếp tục trong những ngày tới do nhu cầu trú ẩn "
    "an toàn của nhà đầu tư vẫn ở mức cao trên toàn thế giới.",
    "Ngân hàng Nhà nước cho biết sẽ theo dõi sát diễn biến thị trường và có biện pháp can thiệp "
    "khi cần thiết để ổn định giá vàng trong nước.",
]
OTHER_TITLE = "Đội tuyển Việt Nam thắng thuyết phục tại Mỹ Đình"
OTHER = [
    "Đội tuyển bóng đá Việt Nam giành chiến thắng thuyết phục trong trận đấu tối qua tại sân "
    "vận động Mỹ Đình trước sự cổ vũ của hàng chục nghìn khán giả.",
    "Huấn luyện viên trưởng cho biết các cầu thủ đã thi đấu với tinh thần rất cao và thực hiện "
    "tốt các chỉ đạo chiến thuật trong suốt chín mươi phút.",
]
SITES = {
    "abc": (
        "Báo ABC",
        ["Trang chủ", "Thời sự", "Kinh tế", "Thể thao"],
        "Bản quyền thuộc về Báo ABC",
    ),
    "xyz": ("Tạp chí XYZ", ["Home", "Tin nóng", "Giải trí"], "© 2024 Tạp chí XYZ. Giấy phép số 99"),
}


def page(
    title: str = TITLE,
    paragraphs: list[str] = PARAGRAPHS,
    site: str = "abc",
    canonical: str | None = None,
) -> str:
    """A news page: header menu, article (h1 + paragraphs), related links, footer."""
    name, menu, footer = SITES[site]
    links = "".join(f'<li><a href="/{i}">{item}</a></li>' for i, item in enumerate(menu))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = f"<title>{title} - {name}</title>"
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    return (
        f"<!DOCTYPE html><html><head>{head}</head><body>"
        f'<header><div class="logo">{name}</div><nav><ul>{links}</ul></nav></header>'
        f"<main><article><h1>{title}</h1>{body}</article>"
        '<aside class="related"><h3>Tin liên quan</h3><ul>'
        '<li><a href="/r1">Một tin khác về thị trường chứng khoán hôm nay</a></li>'
        '<li><a href="/r2">Thời tiết Hà Nội chuyển lạnh vào cuối tuần</a></li></ul></aside></main>'
        f"<footer><p>{footer}</p><p>Liên hệ quảng cáo</p></footer></body></html>"
    )


def read_folder(folder: Path, **kw: Any) -> tuple[list[Record], ProblemLog]:
    problems = ProblemLog()
    return list(read_all(discover([folder], kw.pop("fmt", None)), problems, **kw)), problems


def kinds(problems: ProblemLog) -> dict[str, int]:
    return problems.summary()["by_kind"]


def cli(*args: str) -> Any:
    result = CliRunner().invoke(main, [*map(str, args), "-j", "1", "-q"])
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def kept_rows(out: Path) -> dict[str, dict[str, Any]]:
    rows = [orjson.loads(line) for line in (out / "kept.jsonl").read_bytes().splitlines()]
    return {row["id"]: row for row in rows}


# ------------------------------------------------------------------------------------ extract


def test_extract_title_first_then_paragraphs_without_chrome() -> None:
    result = extract(page(), "https://abc.vn/kinh-te/gia-vang.html")
    lines = result.text.split("\n")
    assert lines[0] == TITLE == result.title
    assert lines[1:] == PARAGRAPHS
    for chrome in ("Trang chủ", "Kinh tế", "Bản quyền", "Liên hệ", "Tin liên quan", "Báo ABC"):
        assert chrome not in result.text


def test_extract_bytes_and_str_agree() -> None:
    assert extract(page().encode()) == extract(page())


def test_extract_canonical_url_made_absolute() -> None:
    html = page(canonical="/kinh-te/gia-vang-123.html")
    assert extract(html, "https://abc.vn/x?utm=1").url == "https://abc.vn/kinh-te/gia-vang-123.html"
    assert extract(html).url is None  # relative and nothing to resolve it against
    og = page().replace("</head>", '<meta property="og:url" content="https://abc.vn/og"></head>')
    assert extract(og).url == "https://abc.vn/og"
    assert extract(page()).url is None


def test_extract_declared_charset() -> None:
    title, text = "Café crème à la française", "Déjà vu: " + "une très longue phrase. " * 10
    html = (
        f'<html><head><meta charset="windows-1252"><title>{title}</title></head><body>'
        f"<nav><a href='/'>Accueil</a></nav><article><h1>{title}</h1><p>{text}</p></article>"
        "</body></html>"
    )
    result = extract(html.encode("cp1252"))
    assert result.title == title
    assert "Déjà vu: une très longue phrase." in result.text


def test_extract_fragment_as_held_in_a_field() -> None:
    result = extract("".join(f"<p>{p}</p>" for p in PARAGRAPHS))
    assert result.text.split("\n") == PARAGRAPHS and result.title is None


def test_broken_html_still_extracts_what_it_can() -> None:
    broken = (
        "<html><head><title>Trang hỏng</title><body><div><p>"
        + PARAGRAPHS[0]
        + "<p><b>"
        + PARAGRAPHS[1]
        + "<td></tr></div></span><p>"
        + PARAGRAPHS[2]
    )
    text = extract(broken).text
    for paragraph in PARAGRAPHS:
        assert paragraph in text


@pytest.mark.parametrize(
    "html",
    [
        "",
        b"   \n",
        "<html><head><title>Chỉ có tiêu đề</title></head><body></body></html>",
        "<html><body><script>var x = 1;</script><style>p {}</style></body></html>",
        "<html><head><title>Tiêu đề không đóng<body><p>" + PARAGRAPHS[0],  # all of it is title
    ],
)
def test_no_text_gives_empty_text(html: str | bytes) -> None:
    assert extract(html).text == ""


def test_binary_junk_does_not_break_extraction() -> None:
    assert isinstance(extract(b"\x00\x01\x02\xff\xfe" * 100).text, str)


def test_timeout_interrupts_extraction() -> None:
    huge = page(paragraphs=[p for _ in range(3000) for p in PARAGRAPHS])
    with pytest.raises(ExtractionTimeout):
        extract_bounded(huge, timeout=0.001)
    assert extract_bounded(page(), timeout=30).title == TITLE


def test_page_records_timeout_is_an_error_naming_the_page() -> None:
    huge = page(paragraphs=[p for _ in range(3000) for p in PARAGRAPHS])
    problems = ProblemLog()
    assert list(page_records([Page("big", huge, "f.warc", 7)], problems, timeout=0.001)) == []
    (problem,) = problems.problems
    assert (problem.kind, problem.severity, problem.line) == ("extraction_timeout", "error", 7)
    assert problem.message.startswith("big: extraction took over 0.001 s")


def test_page_records_no_text_fields_and_order() -> None:
    pages = [
        Page("empty", "<html><body></body></html>", "f", 2),
        Page("ok", page(), "f", 3, {"url": "https://abc.vn/a"}),
        Page("canonical", page(canonical="https://abc.vn/c"), "f", 4, {}, "https://abc.vn/fetched"),
        Page("own", page(canonical="https://abc.vn/c"), "f", 5),
    ]
    problems = ProblemLog()
    records = list(page_records(pages, problems))
    assert [r.id for r in records] == ["empty", "ok", "canonical", "own"]
    assert records[0].text == "" and records[0].fields == {}
    assert kinds(problems) == {"warning:no_text": 1}
    assert records[1].fields == {"url": "https://abc.vn/a", "title": TITLE}
    assert records[2].fields["url"] == "https://abc.vn/fetched"  # the address it came from
    assert records[3].fields["url"] == "https://abc.vn/c"  # else the page's canonical URL


def test_page_records_on_two_workers_same_as_one() -> None:
    pages = [Page(str(i), page(f"{TITLE} {i}"), "f", i) for i in range(20)]
    one = list(page_records(pages, ProblemLog(), map_fn=LocalExecutor(1).map))
    two = list(page_records(pages, ProblemLog(), map_fn=LocalExecutor(2).map))
    assert [(r.id, r.text) for r in one] == [(r.id, r.text) for r in two]
    assert len({r.text for r in one}) == 20


def test_read_all_mixed_folder_on_two_workers(tmp_path: Path) -> None:
    """Runs of HTML files share one extraction stream; order and ids as with one worker."""
    for name in ("a.html", "c.html", "d.htm"):
        (tmp_path / name).write_text(page(f"{TITLE} {name}"))
    (tmp_path / "b.jsonl").write_bytes(orjson.dumps({"id": "b1", "text": "văn bản"}) + b"\n")
    one, problems_one = read_folder(tmp_path, map_fn=LocalExecutor(1).map)
    two, problems_two = read_folder(tmp_path, map_fn=LocalExecutor(2).map)
    assert [r.id for r in one] == ["a.html", "b1", "c.html", "d.htm"]
    assert [(r.id, r.text, r.fields) for r in one] == [(r.id, r.text, r.fields) for r in two]
    assert not problems_one.problems and not problems_two.problems


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_trafilatura(name: str, *args: Any, **kw: Any) -> Any:
        if name.startswith("trafilatura"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kw)

    tinlap_html._trafilatura.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    try:
        (tmp_path / "a.html").write_text(page())
        with pytest.raises(InputError, match=r"tinlap\[html\]"):
            read_folder(tmp_path)
        with pytest.raises(InputError, match=r"tinlap\[html\]"):
            extract(page())
    finally:
        monkeypatch.undo()
        tinlap_html._trafilatura.cache_clear()
    assert extract(page()).title == TITLE


# ----------------------------------------------------------------------------- files and formats


def test_formats_detected_and_forced(tmp_path: Path) -> None:
    assert "html" in FORMATS and "warc" in FORMATS
    for name in ("a.html", "b.htm", "c.html.gz", "d.HTML", "e.warc", "f.warc.gz", "g.wet.gz"):
        (tmp_path / name).write_bytes(b"x")
    found = {s.path.name: s.format for s in discover([tmp_path])}
    assert found == {
        "a.html": "html",
        "b.htm": "html",
        "c.html.gz": "html",
        "d.HTML": "html",
        "e.warc": "warc",
        "f.warc.gz": "warc",
        "g.wet.gz": "warc",
    }
    saved = tmp_path / "page.txt"
    saved.write_text(page())
    (source,) = discover([saved], "html")
    assert source.format == "html" and source.root == tmp_path
    records = list(read_source(source, ProblemLog()))
    assert records[0].id == "page.txt" and records[0].text.startswith(TITLE)


def test_html_folder_ids_fields_and_gzip(tmp_path: Path) -> None:
    (tmp_path / "abc").mkdir()
    (tmp_path / "abc" / "a.html").write_text(page(canonical="https://abc.vn/a"))
    (tmp_path / "xyz.html.gz").write_bytes(gzip.compress(page(OTHER_TITLE, OTHER, "xyz").encode()))
    records, problems = read_folder(tmp_path)
    assert [r.id for r in records] == ["abc/a.html", "xyz.html.gz"]
    assert records[0].fields == {"url": "https://abc.vn/a", "title": TITLE}
    assert records[1].fields == {"title": OTHER_TITLE}
    assert records[1].text.split("\n") == [OTHER_TITLE, *OTHER]
    assert records[0].line == 0 and records[0].path == str(tmp_path / "abc" / "a.html")
    assert not problems.problems


def test_bad_html_files_each_reported_others_kept(tmp_path: Path) -> None:
    (tmp_path / "good.html").write_text(page())
    (tmp_path / "empty.html").write_text("<html><head><title>Trống</title></head></html>")
    (tmp_path / "zero.html").write_bytes(b"")
    data = gzip.compress(page(OTHER_TITLE, OTHER).encode())
    (tmp_path / "cut.html.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "huge.html").write_text(page(paragraphs=PARAGRAPHS * 60))
    records, problems = read_folder(tmp_path, max_page_bytes=20_000)
    assert [r.id for r in records] == ["empty.html", "good.html", "zero.html"]
    assert [r.text for r in records][0::2] == ["", ""]
    assert records[0].fields == {"title": "Trống"}
    assert kinds(problems) == {
        "error:too_large": 1,
        "error:truncated": 1,
        "warning:no_text": 2,
    }
    by_file = {Path(p.path).name: p for p in problems.problems}
    assert by_file["cut.html.gz"].kind == "truncated"
    assert by_file["huge.html"].kind == "too_large" and "20,000-byte" in str(by_file["huge.html"])
    assert "empty.html: no extractable text" in by_file["empty.html"].message


def test_html_field_of_jsonl_and_parquet(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "html": page(), "url": "https://abc.vn/1", "topic": "kinh-te"},
        {"id": 2, "html": "<div><p>" + OTHER[0] + "</p></div>", "topic": "the-thao"},
        {"id": 3, "html": "", "topic": "x"},
        {"id": 4, "topic": "no html field"},
    ]
    path = tmp_path / "pages.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    problems = ProblemLog()
    records = list(read_all(discover([path]), problems, html_field="html"))
    assert [r.id for r in records] == ["1", "2", "3"]
    assert records[0].text.split("\n") == [TITLE, *PARAGRAPHS]
    assert records[0].fields == {
        "id": 1,
        "url": "https://abc.vn/1",
        "topic": "kinh-te",
        "title": TITLE,
    }
    assert records[1].text == OTHER[0] and records[2].text == ""
    assert kinds(problems) == {"error:missing_text": 1, "warning:empty_text": 1}


# ------------------------------------------------------------------------------------------ CLI


def test_cli_dedup_same_article_in_different_chrome(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    (pages / "abc").mkdir(parents=True)
    (pages / "xyz").mkdir()
    (pages / "abc" / "gia-vang.html").write_text(page(canonical="https://abc.vn/gia-vang"))
    (pages / "xyz" / "gia-vang.html.gz").write_bytes(
        gzip.compress(page(site="xyz", canonical="https://xyz.vn/kinh-te/gia-vang").encode())
    )
    (pages / "abc" / "bong-da.html").write_text(page(OTHER_TITLE, OTHER))
    (pages / "abc" / "rong.html").write_text("<html><body><script>1</script></body></html>")
    out = tmp_path / "out"
    cli("dedup", pages, "-o", out)

    clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    assert {(r["id"], r["kept"]) for r in clusters} == {
        ("abc/gia-vang.html", True),
        ("xyz/gia-vang.html.gz", False),
    } or {(r["id"], r["kept"]) for r in clusters} == {
        ("abc/gia-vang.html", False),
        ("xyz/gia-vang.html.gz", True),
    }
    kept = kept_rows(out)
    assert "abc/bong-da.html" in kept and "abc/rong.html" in kept  # the empty page is kept
    assert kept["abc/rong.html"]["text"] == ""
    survivor = next(k for k in kept if "gia-vang" in k)
    assert kept[survivor]["url"].endswith("gia-vang") and kept[survivor]["title"] == TITLE
    assert kept[survivor]["text"].split("\n")[0] == TITLE
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["output_format"] == "jsonl"
    assert summary["input_problems"]["by_kind"] == {"warning:no_text": 1}
    assert any(
        "rong.html" in m and "no extractable text" in m
        for m in summary["input_problems"]["messages"]
    )


def test_cli_oversized_page_is_an_error_and_the_run_goes_on(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text(page())
    filler = "<p>" + "x" * 1000 + "</p>"
    (pages / "huge.html").write_text(
        page(paragraphs=[filler] * (tinlap_html.MAX_PAGE_BYTES // 1000))
    )
    out = tmp_path / "out"
    cli("clean", pages, "-o", out)
    assert list(kept_rows(out)) == ["a.html"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input_problems"]["by_kind"] == {"error:too_large": 1}
    assert "huge.html" in summary["input_problems"]["messages"][0]


def test_cli_html_field(tmp_path: Path) -> None:
    path = tmp_path / "crawl.jsonl"
    rows = [
        {"id": "a", "url": "https://abc.vn/a", "html": page()},
        {"id": "b", "url": "https://xyz.vn/b", "html": page(site="xyz")},
        {"id": "c", "url": "https://abc.vn/c", "html": page(OTHER_TITLE, OTHER)},
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    out = tmp_path / "out"
    cli("dedup", path, "-o", out, "--html-field", "html")
    kept = kept_rows(out)
    assert len(kept) == 2 and "c" in kept
    assert kept["c"]["text"].split("\n") == [OTHER_TITLE, *OTHER]
    assert "html" not in kept["c"] and kept["c"]["url"] == "https://abc.vn/c"


def test_extracted_is_a_value() -> None:
    assert Extracted("t", None, None) == Extracted("t", None, None)


def test_cli_output_formats_for_html(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.html").write_text(page(canonical="https://abc.vn/a"))
    cli("clean", tmp_path / "pages", "-o", tmp_path / "pq", "--output-format", "parquet")
    (row,) = pq.read_table(tmp_path / "pq" / "kept.parquet").to_pylist()
    assert row["id"] == "a.html" and row["url"] == "https://abc.vn/a" and row["title"] == TITLE
    refused = CliRunner().invoke(
        main,
        ["clean", str(tmp_path / "pages"), "-o", str(tmp_path / "x"), "--output-format", "html"],
    )
    assert refused.exit_code == 2  # html and warc are input formats only
