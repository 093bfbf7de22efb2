"""Boilerplate removal: the seed pair, synthetic chrome in Vietnamese and English, real text."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest
import zstandard

from tinlap.core.clean import (
    STRONG_HEADERS,
    BlockHeaderRule,
    Cleaner,
    CleanResult,
    Removal,
    clean,
    default_rules,
)

SEED_SCRAPE = "000_f1cdcb0b2f19f625.txt"
SEED_CLEAN = "002_5681c2e147e64257.txt"
_DATE_STAMP = re.compile(r"\(\d{1,2}/\d{1,2}/\d{4}\)\s*$")


def removed_rules(result: CleanResult) -> dict[int, str]:
    return {r.line: r.rule for r in result.removed}


def kept_lines(result: CleanResult) -> list[str]:
    return [line for line in result.text.split("\n") if line.strip()]


def doc(*lines: str) -> str:
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The seed pair
# ---------------------------------------------------------------------------------------------


def test_seed_scrape_loses_all_chrome_and_keeps_every_article_line(seeds_dir: Path) -> None:
    text = (seeds_dir / SEED_SCRAPE).read_text(encoding="utf-8")
    lines = text.split("\n")
    first_header = lines.index("Tin bài liên quan")
    debris = [i for i in range(first_header) if lines[i].strip() and not re.search(r"\w", lines[i])]
    # The photo's caption ("Ngoại trưởng Mỹ Antony Blinken. Ảnh: AP") describes the story's
    # photo: article text, which the other outlet reprints too.
    captions = [i for i in range(first_header) if "Ảnh:" in lines[i]]
    chrome = [i for i in range(first_header, len(lines)) if lines[i].strip()]
    assert debris and captions and len(chrome) > 30

    result = clean(text)
    rules = removed_rules(result)

    assert set(rules) == {*debris, *chrome}
    assert {rules[i] for i in debris} == {"markup_debris"}
    assert rules[first_header] == "block_header"
    assert {rules[i] for i in chrome} <= {"block_header", "related_list", "tag_line"}
    # Title first, then every article line in order, untouched.
    article = [lines[i].rstrip() for i in range(first_header) if i not in debris]
    assert kept_lines(result) == article
    assert result.text.startswith(lines[0])


def test_seed_clean_copy_loses_nothing(seeds_dir: Path) -> None:
    text = (seeds_dir / SEED_CLEAN).read_text(encoding="utf-8")
    lines = text.split("\n")
    result = clean(text)

    assert result.removed == ()  # its photo caption is article text
    assert kept_lines(result) == [s.rstrip() for s in lines if s.strip()]
    assert "\n\n\n" not in result.text  # blank runs collapse to one blank line


# ---------------------------------------------------------------------------------------------
# Synthetic chrome
# ---------------------------------------------------------------------------------------------


def test_english_related_and_most_read_blocks() -> None:
    text = doc(
        "Storm floods three coastal towns",
        "Heavy rain flooded three coastal towns on Monday, officials said.",
        "Related articles",
        "Rescue teams reach stranded villagers",
        "How to prepare for the monsoon season",
        "Officials expect the water to recede by Thursday.",
        "",
        "MOST READ:",
        "Five things to know about the new tax rules",
        "Why the central bank held rates?",
        "",
        "Local team wins the regional cup",
    )
    rules = removed_rules(clean(text))
    assert rules == {
        2: "block_header",
        3: "related_list",
        4: "related_list",
        7: "block_header",
        8: "related_list",
        9: "related_list",
        11: "related_list",
    }


def test_header_variants_match_on_the_normalised_key() -> None:
    text = doc(
        "Giá vàng lập đỉnh mới",
        "Giá vàng trong nước sáng nay tăng thêm 500.000 đồng mỗi lượng.",
        "TIN LIÊN QUAN:",
        "Giá vàng thế giới đảo chiều",
        "Ngân hàng Nhà nước can thiệp thị trường vàng",
        "Người dân xếp hàng từ sáng sớm để mua vàng.",
        "  Đọc   nhiều  ",
        "Lãi suất tiết kiệm tăng nhẹ",
        "Giới phân tích dự báo giá còn biến động mạnh trong tuần tới.",
        "Từ khoá: giá vàng, SJC, lãi suất",
        "Từ khóa",
    )
    rules = removed_rules(clean(text))
    assert rules == {
        2: "block_header",
        3: "related_list",
        4: "related_list",
        6: "block_header",
        7: "related_list",
        9: "inline_header",
        10: "block_header",
    }
    # NFD input (decomposed accents) matches the same way, and the output keeps the input.
    nfd = unicodedata.normalize("NFD", text)
    result = clean(nfd)
    assert removed_rules(result) == rules
    assert result.removed[0].text == nfd.split("\n")[2]


def test_inline_read_more_link_goes_but_a_sentence_stays() -> None:
    text = doc(
        "Phạt nặng xe chở quá tải",
        "Xem thêm: Hà Nội cấm xe tải vào nội đô giờ cao điểm",
        "Xem thêm các quy định tại Nghị định 100, có hiệu lực từ năm 2020.",
        "Read more: Why freight costs keep rising",
    )
    assert removed_rules(clean(text)) == {1: "inline_header", 3: "inline_header"}


def test_captions_and_credits() -> None:
    paragraph_with_source = (
        "Kim ngạch xuất khẩu tháng 5 đạt 30 tỷ USD, tăng 12% so với cùng kỳ năm trước, trong "
        "đó nhóm hàng điện tử chiếm tỷ trọng lớn nhất với gần 40% tổng kim ngạch cả nước "
        "(Nguồn: Tổng cục Thống kê)"
    )
    text = doc(
        "Xuất khẩu tăng mạnh",
        "Người dân xếp hàng làm thủ tục hải quan sáng 10/3. Ảnh: Minh Anh",
        "Ảnh: Hoàng Hà",
        "| Cảng Cát Lái những ngày cao điểm - (ảnh: T.L) |",
        "Ảnh minh họa",
        "Nguồn: Reuters",
        "Container ships queue outside the port. Photo: AP",
        paragraph_with_source,
        "Phần mềm quản lý ảnh: Adobe Photoshop Album 2",
        "- Video: quay 4K, 60 khung hình/giây",
        "Ảnh: Thủ tướng phát biểu tại hội nghị tổng kết công tác năm của ngành hải quan",
        "Ảnh minh họa. Nguồn: Internet",
        "(Photo by Jane Doe/Getty Images)",
    )
    # Bare credits go; a caption that describes the photo (with or without its credit) is
    # article text and stays, and so do lines that merely contain a label and a colon.
    rules = removed_rules(clean(text))
    assert rules == dict.fromkeys([2, 4, 5, 11, 12], "caption")


def test_copyright_and_licence_footer_in_the_tail_only() -> None:
    text = doc(
        "Tranh chấp bản quyền bài hát",
        "Bản quyền thuộc về nhạc sĩ cho đến khi ông chuyển nhượng cho công ty vào năm ngoái, "
        "theo hợp đồng mà phóng viên được xem.",
        "Phiên tòa sẽ tiếp tục vào tuần sau.",
        "© 2024 Báo Điện tử Tin Nhanh. Bản quyền thuộc về Báo Tin Nhanh.",
        "Giấy phép số 123/GP-BTTTT do Bộ Thông tin và Truyền thông cấp ngày 1/1/2020",
        "Tổng biên tập: Nguyễn Văn A",
        "Địa chỉ: 12 Lê Lợi, Quận 1, TP.HCM.",
    )
    assert removed_rules(clean(text)) == dict.fromkeys(range(3, 7), "footer")


def test_copyright_line_quoted_mid_story_stays() -> None:
    text = doc(
        "Cách xem địa chỉ IP",
        "Bạn sẽ nhận được thông tin tương tự như dưới đây:",
        "(C) Copyright 1985-2001 Microsoft Corp.",
        "Dòng thứ hai cho biết địa chỉ IP của máy, và bạn có thể ghi lại để dùng khi cần.",
    )
    assert clean(text).removed == ()


def test_share_counters_and_widgets() -> None:
    text = doc(
        "Bão số 3 đổ bộ",
        "Chia sẻ 12",
        "Thích 0",
        "Like Share Tweet",
        "Gió giật cấp 12 làm đổ hàng nghìn cây xanh trong đêm.",
        "Chia sẻ",
        "Người dân chia sẻ với nhau từng gói mì, từng chai nước trong những ngày bị cô lập.",
        "Chia sẻ",
        "",
        "Facebook",
        "Zalo",
        "12 bình luận",
    )
    # A lone "Chia sẻ" is a sub-heading; inside a run of widget lines it is a share bar.
    assert removed_rules(clean(text)) == dict.fromkeys([1, 2, 3, 7, 9, 10, 11], "share_counter")


def test_english_widgets_and_credits() -> None:
    text = doc(
        "Parliament delays the vote",
        "Protesters gather outside parliament on Monday. (AP Photo/Evan Vucci)",
        "Photo credit: Jane Doe",
        "Advertisement",
        "What happens next",
        "The vote was delayed until Friday, officials said.",
        "Share on Facebook",
        "Follow us on Twitter",
    )
    assert removed_rules(clean(text)) == {
        2: "caption",
        3: "link_label",
        6: "share_counter",
        7: "share_counter",
    }


def test_breadcrumbs_but_not_slashes_in_text() -> None:
    text = doc(
        "Trang chủ > Thế giới",
        "Nga và Ukraine nối lại đàm phán",
        "Home » News » Asia",
        "Tỷ giá USD/VND tăng nhẹ",
        "Hà Nội / TP.HCM",
    )
    assert removed_rules(clean(text)) == {2: "breadcrumb"}  # line 0 is the title


def test_title_starting_with_a_tag_stays_and_tag_lines_go() -> None:
    text = doc(
        "[Video] Lũ quét tràn qua bản làng ở Lào Cai",
        "Trận lũ quét đêm qua đã cuốn trôi nhiều nhà dân.",
        "[Infographic] Những con số về đợt mưa lũ",
        "[Ảnh] Người dân dọn dẹp sau lũ.",
    )
    result = clean(text)
    assert removed_rules(result) == {2: "tag_line"}
    assert result.text.startswith("[Video] Lũ quét")


def test_weak_headers_that_are_sub_headings_stay() -> None:
    text = doc(
        "Những điểm mới của luật",
        "Sự kiện",
        "Quốc hội đã thông qua luật sửa đổi với tỷ lệ tán thành cao trong phiên họp sáng nay.",
        "Video",
        "Những sản phẩm đoạt giải",
        "Máy quay của hãng X được đánh giá cao nhờ chất lượng hình ảnh và thời lượng pin.",
    )
    assert clean(text).removed == ()


def test_datelines_stamps_go_timetables_stay() -> None:
    stamp = doc(
        "Giá xăng giảm",
        "Thứ Hai, 10/3/2024 14:30 (GMT+7)",
        "Giá xăng giảm 300 đồng mỗi lít từ chiều nay.",
        "Cập nhật: 11/3/2024",
    )
    assert removed_rules(clean(stamp)) == {1: "dateline", 3: "dateline"}
    timetable = doc(
        "Lịch thi tốt nghiệp",
        "Ngày 5.7.2006",
        "Toán",
        "Ngày 10.7.2006",
        "Hóa",
    )
    assert clean(timetable).removed == ()


def test_markup_and_script_debris() -> None:
    text = doc(
        "Tiêu đề bài",
        "|---|---|",
        "![](https://example.com/a.jpg)",
        '<div class="ad"></div>',
        "document.ContactUs.submit();",
        "kmode = 1;",
        "<The Palace: Jang Noksu>",
        "1.400 (2 tuần)",
        "If (as expected) the vote passes, the bill becomes law.",
    )
    rules = removed_rules(clean(text))
    assert rules == {1: "markup_debris", 2: "markup_debris", 3: "markup_debris",
                     4: "script_debris", 5: "script_debris"}  # fmt: skip


def test_headerless_dated_link_list() -> None:
    text = doc(
        "Vụ kiện tôm",
        "Bộ Thương mại Mỹ vừa công bố phán quyết cuối cùng trong vụ kiện.",
        "Tôm VN tìm cách chống đỡ thuế bán phá giá(01/12/2004)",
        "DOC ra phán quyết cuối cùng với tôm VN(01/12/2004)",
        "Kết quả các trận đấu cuối tuần như sau.",
        "Vòng 17 (21/12/2005)",
        "Barcelona thắng Celta Vigo 2-0 trên sân nhà.",
    )
    assert removed_rules(clean(text)) == {2: "related_list", 3: "related_list"}


def test_result_shape() -> None:
    assert clean("") == CleanResult("", ())
    text = "Tiêu đề\r\n\r\n\r\nĐoạn một.\r\nẢnh: AP\r\n\r\n\r\nĐoạn hai.\r\n"
    result = clean(text)
    assert result.removed == (Removal(4, "Ảnh: AP\r", "caption"),)
    assert result.text == "Tiêu đề\n\nĐoạn một.\n\nĐoạn hai."


# ---------------------------------------------------------------------------------------------
# Plug-in rules
# ---------------------------------------------------------------------------------------------


class LearnedLines:
    """A stand-in for a corpus-learned rule: drops lines from a set, sees earlier drops."""

    name = "learned"

    def __init__(self, lines: set[str]) -> None:
        self.lines = lines
        self.seen_dropped: list[str | None] = []

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        self.seen_dropped = list(dropped)
        for i, line in enumerate(lines):
            if line in self.lines and dropped[i] is None:
                dropped[i] = self.name


def test_plugged_in_rule_runs_after_defaults_and_cannot_drop_the_title() -> None:
    text = doc(
        "Bản tin sáng",
        "Nội dung chính của bản tin.",
        "Liên hệ đặt quảng cáo trên báo",
        "Tin liên quan",
        "Giá xăng giảm lần thứ ba",
    )
    learned = LearnedLines({"Bản tin sáng", "Liên hệ đặt quảng cáo trên báo"})
    result = Cleaner([*default_rules(), learned]).clean(text)
    assert learned.seen_dropped[3] == "block_header"  # it saw what the defaults dropped
    assert removed_rules(result) == {2: "learned", 3: "block_header", 4: "related_list"}
    assert result.text == "Bản tin sáng\nNội dung chính của bản tin."


def test_learned_header_phrases_configure_the_header_rule() -> None:
    text = doc("Tiêu đề", "Nội dung chính.", "Tin từ đối tác", "Vay tiêu dùng lãi suất 0%")
    assert clean(text).removed == ()
    rule = BlockHeaderRule(strong=(*STRONG_HEADERS, "Tin từ đối tác"))
    assert removed_rules(Cleaner([rule]).clean(text)) == {2: "block_header", 3: "related_list"}


# ---------------------------------------------------------------------------------------------
# Precision on real articles (VNTC)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vntc_head(vntc_path: Path) -> list[dict]:
    """The first 2,000 VNTC articles."""
    docs = []
    with vntc_path.open("rb") as fh:
        reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh))
        for raw in reader:
            docs.append(orjson.loads(raw))
            if len(docs) == 2000:
                break
    return docs


def test_real_articles_lose_only_a_small_share_of_lines(vntc_head: list[dict]) -> None:
    total = removed = 0
    for record in vntc_head:
        result = clean(record["text"])
        total += sum(1 for line in record["text"].split("\n") if line.strip())
        removed += len(result.removed)
        # No rule ever takes a paragraph-length line.
        assert all(r.text.count(" ") < 45 for r in result.removed), record["id"]
    share = removed / total
    print(f"VNTC first 2,000: {removed} of {total} lines removed ({share:.2%})")
    assert share < 0.03


@pytest.mark.parametrize(
    "doc_id",
    [
        "test/Chinh tri Xa hoi/XH_NLD_T_ (8962).txt",  # sub-headings without punctuation
        "test/Chinh tri Xa hoi/XH_NLD_T_ (9306).txt",  # interview: names, short headings
        "test/Chinh tri Xa hoi/XH_VNE_T_ (1148).txt",  # a table of costs, one cell a line
        "test/Chinh tri Xa hoi/XH_TT_T_ (10064).txt",  # captions glued into paragraphs
    ],
)
def test_real_bodies_untouched(vntc_head: list[dict], doc_id: str) -> None:
    (record,) = [r for r in vntc_head if r["id"] == doc_id]
    result = clean(record["text"])
    assert result.removed == ()
    assert kept_lines(result) == [s.rstrip() for s in record["text"].split("\n") if s.strip()]


def test_real_captions_and_related_links_go_body_stays(vntc_head: list[dict]) -> None:
    by_id = {r["id"]: r["text"] for r in vntc_head}

    qa = by_id["test/Chinh tri Xa hoi/XH_NLD_T_ (8969).txt"]  # Q&A with two photo captions
    result = clean(qa)
    assert result.removed == ()  # the captions describe the photos: article text

    vne = by_id["test/Chinh tri Xa hoi/XH_VNE_T_ (1020).txt"]  # story, then dated links
    lines = vne.split("\n")
    result = clean(vne)
    assert {r.line for r in result.removed} == {
        i for i, s in enumerate(lines) if _DATE_STAMP.search(s)
    }
    assert len(result.removed) >= 2
