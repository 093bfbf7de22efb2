"""Corpus-learned boilerplate: a generated site's chrome goes, every page's title and body stay."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tinlap.apps.cli import main
from tinlap.core.chrome import ChromeModel, doc_lines, learn, line_key, source_of
from tinlap.core.clean import Cleaner
from tinlap.io.spill import NpzSpill
from tinlap.records import Record

SYLLABLES = [
    "an",
    "bao",
    "cao",
    "chi",
    "cong",
    "dan",
    "dat",
    "den",
    "dieu",
    "dong",
    "giao",
    "hai",
    "hoc",
    "khoa",
    "kinh",
    "lam",
    "loi",
    "minh",
    "nam",
    "nghi",
    "nguoi",
    "nha",
    "phat",
    "quan",
    "sau",
    "tam",
    "thanh",
    "thuc",
    "tien",
    "tinh",
    "trong",
    "truong",
    "van",
    "viec",
    "xa",
    "xanh",
    "y",
]
CHROME = [
    "Đường dây nóng: 0912 345 678 - Email: toasoan@example.vn",
    "Theo dõi chúng tôi trên các mạng xã hội để nhận tin sớm nhất",
    "Mọi bình luận cần tuân thủ quy định của ban biên tập",
    "Tải ứng dụng đọc báo trên điện thoại của bạn",
]


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(SYLLABLES) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def site(n_pages: int = 50, seed: int = 7) -> tuple[list[dict[str, str]], list[str]]:
    """Pages of one site: title, body, the site's chrome, and a 'most read' list of titles.

    The most-read list has no header line, so only the learned rule can recognise it; its items
    are the first five pages' titles (the trap: each of those titles is also its own page's
    title, which must stay there).
    """
    rng = random.Random(seed)
    titles = [f"{sentence(rng, 8)[:-1]} ({i})" for i in range(n_pages)]
    pages = []
    for i, title in enumerate(titles):
        body = [sentence(rng, rng.randint(25, 45)) for _ in range(rng.randint(3, 6))]
        popular = [t for t in titles[:5] if t != title]
        lines = [title, CHROME[0], *body, CHROME[1], *popular, CHROME[2], CHROME[3]]
        pages.append(
            {"id": f"page{i:02d}", "url": f"https://www.example.vn/p/{i}", "text": "\n".join(lines)}
        )
    return pages, titles


def model_of(pages: list[dict[str, str]], tmp_path: Path, **kw: float) -> ChromeModel:
    records = [Record(p["id"], p["text"], "x", 0, {"url": p["url"]}) for p in pages]
    batches = [
        doc_lines(
            [r.text for r in records[s : s + 16]], [source_of(r, None) for r in records[s : s + 16]]
        )
        for s in range(0, len(records), 16)
    ]
    return learn(batches, NpzSpill(tmp_path), **kw)  # type: ignore[arg-type]


def clean_all(pages: list[dict[str, str]], model: ChromeModel) -> dict[str, str]:
    cleaner = Cleaner()
    rule = model.rule_for("example.vn")
    return {p["id"]: cleaner.clean(p["text"], (rule,)).text for p in pages}


def test_learned_rules_remove_site_chrome_and_keep_titles_and_bodies(tmp_path: Path) -> None:
    pages, titles = site()
    model = model_of(pages, tmp_path)
    assert model.docs_per_source == {"example.vn": 50}
    cleaned = clean_all(pages, model)
    for page, title in zip(pages, titles, strict=True):
        text = cleaned[page["id"]]
        lines = text.split("\n")
        assert lines[0] == title  # the title stays, even the popular ones
        assert not set(CHROME) & set(lines), page["id"]
        assert not set(titles[:5]) & set(lines[1:]), page["id"]  # the headerless list went
        body = [line for line in page["text"].split("\n") if len(line.split()) >= 25]
        assert lines[1:] == body  # every body paragraph, in order, and nothing else


def test_title_in_other_pages_lists_stays_on_its_own_page(tmp_path: Path) -> None:
    pages, titles = site()
    cleaned = clean_all(pages, model_of(pages, tmp_path))
    for i in range(5):
        assert cleaned[f"page{i:02d}"].split("\n")[0] == titles[i]
        assert titles[i] not in cleaned["page10"]


def test_a_story_published_many_times_on_one_site_is_not_chrome(tmp_path: Path) -> None:
    pages, _ = site()
    story = pages[7]["text"]
    copies = [
        {"id": f"copy{i}", "url": f"https://example.vn/c/{i}", "text": story} for i in range(8)
    ]
    cleaned = clean_all(pages + copies, model_of(pages + copies, tmp_path))
    body = [line for line in story.split("\n") if len(line.split()) >= 25]
    for i in range(8):
        assert all(paragraph in cleaned[f"copy{i}"] for paragraph in body)


def test_small_sources_and_one_word_or_numeric_lines_learn_nothing(tmp_path: Path) -> None:
    pages, _ = site(n_pages=12)  # fewer than 20 pages: no template can be told from chance
    assert not model_of(pages, tmp_path).chrome
    rng = random.Random(3)
    tables = [
        {
            "id": f"t{i}",
            "url": "https://sport.example.vn/x",
            "text": "\n".join([sentence(rng, 8), "Đội", "Trận", "10", "11", sentence(rng, 30)]),
        }
        for i in range(40)
    ]
    model = model_of(tables, tmp_path)  # "Đội" on 100% of pages: a one-word line needs 20%
    assert line_key("10") is None  # a line without a letter is never chrome
    cleaned = clean_all(tables, model).values()
    assert model.chrome  # "Đội" and "Trận" are on every page: learned
    assert all("10\n11" in text for text in cleaned)


def test_no_page_is_emptied(tmp_path: Path) -> None:
    pages = [
        {"id": f"e{i}", "url": "https://e.example.vn/", "text": "\n".join(CHROME)}
        for i in range(30)
    ]
    pages += [
        {"id": f"p{i}", "url": "https://e.example.vn/", "text": p["text"]}
        for i, p in enumerate(site()[0])
    ]
    model = model_of(pages, tmp_path)
    cleaned = {
        p["id"]: Cleaner().clean(p["text"], (model.rule_for("e.example.vn"),)).text for p in pages
    }
    assert all(cleaned[f"e{i}"] for i in range(30))


@pytest.mark.parametrize("learn_flag", [[], ["--no-learn"]])
def test_clean_command_writes_cleaned_corpus_and_removed_lines(
    tmp_path: Path, learn_flag: list[str]
) -> None:
    pages, titles = site()
    corpus = tmp_path / "site.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in pages))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["clean", str(corpus), "-o", str(out), "-j", "1", *learn_flag]
    )
    assert result.exit_code == 0, result.output
    kept = [orjson.loads(x) for x in (out / "kept.jsonl").read_bytes().splitlines()]
    assert [k["id"] for k in kept] == [p["id"] for p in pages]  # every document, in order
    assert [k["text"].split("\n")[0] for k in kept] == titles
    removed = pq.read_table(out / "removed_lines.parquet").to_pylist()
    summary = orjson.loads((out / "summary.json").read_bytes())
    assert summary["lines_removed"] == len(removed)
    assert summary["documents_read"] == summary["documents_written"] == 50
    for row in removed:  # the line number points at the removed text in the input
        source = next(p for p in pages if p["id"] == row["id"])
        assert source["text"].split("\n")[row["line"] - 1] == row["text"]
    if learn_flag:
        assert summary["learned_boilerplate"] is None
        assert all(k["text"].count(CHROME[0]) == 1 for k in kept)
    else:
        assert {r["rule"] for r in removed} == {"learned_boilerplate"}
        assert len(removed) == 50 * (4 + 5) - 5  # 4 chrome lines + 5 list items (4 on pages 0-4)


def test_a_lone_recurring_line_inside_the_body_is_the_articles_own_format(tmp_path: Path) -> None:
    rng = random.Random(11)
    pages = []
    for i in range(40):
        body = [sentence(rng, 30) for _ in range(4)]
        lines = [f"Hỏi đáp số {i}", body[0], "Trả lời:", body[1], CHROME[1], CHROME[2], body[2]]
        pages.append(
            {"id": f"q{i}", "url": "https://qa.example.vn/", "text": "\n".join([*lines, body[3]])}
        )
    model = model_of(pages, tmp_path)
    cleaned = {
        p["id"]: Cleaner().clean(p["text"], (model.rule_for("qa.example.vn"),)).text for p in pages
    }
    for page in pages:
        text = cleaned[page["id"]]
        assert "Trả lời:" in text.split("\n")  # between two paragraphs, alone: kept
        assert CHROME[1] not in text and CHROME[2] not in text  # a block inside the body: removed


def test_title_after_site_header_stays_on_its_own_page(tmp_path: Path) -> None:
    pages, titles = site()
    header = ["Báo Tin Nhanh Điện Tử", "Thời sự | Thế giới | Kinh doanh | Thể thao"]
    for page in pages:
        page["text"] = "\n".join([*header, page["text"]])
    cleaned = clean_all(pages, model_of(pages, tmp_path))
    for page, title in zip(pages, titles, strict=True):
        lines = cleaned[page["id"]].split("\n")
        assert lines[0] == title, page["id"]  # the site header went, the title stayed
        assert not set(header) & set(lines)
        assert not set(titles[:5]) & set(lines[1:])  # other pages' titles in the list went


# ------------------------------------------------------------------------- templated chrome

AUTHORS = ["Trần Lưu", "Minh Anh", "Nguyễn Thị Hoa", "Lê Văn Bình", "Phạm Quốc Hùng"]
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def templated_site(
    n_pages: int = 60, seed: int = 3
) -> tuple[list[dict[str, str]], list[list[str]]]:
    """Pages whose chrome lines differ on every page (dates, times, authors, counts), with
    article lines that also carry numbers and names: only the template is shared."""
    rng = random.Random(seed)
    pages, bodies = [], []
    for i in range(n_pages):
        day, month, hour, minute = rng.randint(1, 28), rng.randint(1, 12), rng.randint(0, 23), i
        body = [sentence(rng, rng.randint(25, 45)) for _ in range(rng.randint(3, 6))]
        # Article lines with numbers and names, unique to the page.
        body.insert(1, f"Ông {rng.choice(AUTHORS)} cho biết năm {2000 + i} có {i * 7} hộ dân.")
        if i % 15 == 0:  # a table row ending a few articles (the same on most would be chrome)
            body.append(f"Bảng {i}: {rng.randint(10, 99)} | {rng.randint(100, 999)}")
        lines = [
            sentence(rng, 8)[:-1],
            f"{rng.choice(WEEKDAYS)}, {day}/{month}/2024 {hour:02d}:{minute % 60:02d} (GMT+7)",
            f"{rng.choice(AUTHORS)} | {day:02d}.{month:02d}.2024 - {hour:02d}:{minute % 60:02d}",
            *body,
            f"Thích {rng.randint(0, 999)} | Bình luận {rng.randint(0, 99)} | Chia sẻ",
            f"{rng.randint(100, 99999):,} lượt xem".replace(",", "."),
        ]
        pages.append(
            {"id": f"t{i:02d}", "url": f"https://www.example.vn/t/{i}", "text": "\n".join(lines)}
        )
        bodies.append([lines[0], *body])
    return pages, bodies


def test_templated_chrome_is_learned_and_article_lines_with_numbers_stay(tmp_path: Path) -> None:
    pages, bodies = templated_site()
    cleaned = clean_all(pages, model_of(pages, tmp_path))
    for page, body in zip(pages, bodies, strict=True):
        assert cleaned[page["id"]].split("\n") == body


def test_template_keys_mask_what_varies_only() -> None:
    from tinlap.core.chrome import template_key

    same = [
        ("Thứ Hai, 12/3/2024 08:15 (GMT+7)", "Chủ Nhật, 1/12/2023 18:05 (GMT+7)"),
        ("Trần Lưu | 01.03.2006 - 06:00", "Nguyễn Thị Hoa | 12.11.2007 - 17:45"),
        ("123 lượt xem", "4.567 lượt xem"),
        ("Thích 45 | Bình luận 12 | Chia sẻ", "Thích 0 | Bình luận 7 | Chia sẻ"),
        ("Cập nhật lúc 08:15 ngày 12-3-2024", "Cập nhật lúc 18:05 ngày 1-11-2023"),
    ]
    for a, b in same:
        assert template_key(a) is not None and template_key(a) == template_key(b), (a, b)
    assert template_key("123 lượt xem") != template_key("123 lượt thích")
    assert template_key("Một dòng không có số") is None  # nothing varies: the line key's job
    assert template_key("12 | 34") is None  # no letters, no date: a table row
    long = "Năm 2024 giá vàng tăng 200.000 đồng mỗi lượng trong phiên sáng nay theo SJC và nhiều"
    assert template_key(long) is None  # prose, not a template


def test_a_template_on_a_few_pages_is_not_chrome(tmp_path: Path) -> None:
    pages, _ = site(n_pages=50)
    for i, page in enumerate(pages[:4]):  # under min_docs (5) pages carry the stamp
        page["text"] = page["text"].replace(
            "\n", f"\nMã tin {1000 + i} thuộc chuyên mục thời sự\n", 1
        )
    model = model_of(pages, tmp_path)
    cleaned = clean_all(pages, model)
    assert all("Mã tin" in cleaned[p["id"]] for p in pages[:4])
