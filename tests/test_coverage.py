"""Sentence alignment (edit-tolerant coverage) and the text check of grey-zone pairs.

Copies edited lightly in every sentence must count; hard negatives must not: templated
bulletins that differ only in their figures, independent write-ups of one event, two stories
quoting one press release. The texts are generated here from seeded templates.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from tinlap.config import DedupConfig
from tinlap.core.clean import clean
from tinlap.core.normalise import matching_key, repair_text
from tinlap.core.rules import CopyRule
from tinlap.core.sentences import aligned_coverage, coverage, reproduces, sentence_keys
from tinlap.core.verify import PairScores

QUOTE = (
    "Khi chấm thi không quy tròn điểm từng bài thi, việc quy tròn do máy tính tự động thực "
    "hiện theo nguyên tắc chung của bộ. Nếu tổng điểm ba môn có điểm lẻ từ 0,25 đến dưới 0,5 "
    "thì quy tròn thành 0,5, có điểm lẻ từ 0,75 thì quy tròn thành 1,0."
)
STORY_A = (
    "Bộ Giáo dục vừa ký quyết định sửa đổi quy chế tuyển sinh đại học hệ chính quy năm nay. "
    + QUOTE
    + " Các trường phải công bố chỉ tiêu trước ngày 15 tháng 3 trên trang thông tin của mình. "
    "Thí sinh có thể nộp hồ sơ trực tuyến hoặc nộp trực tiếp tại sở giáo dục địa phương."
)
STORY_B = (
    "Nhiều thí sinh lớp 12 ở thành phố băn khoăn về cách tính điểm thưởng trong kỳ thi sắp tới. "
    + QUOTE
    + " Theo một hiệu trưởng, thay đổi này giúp việc chấm thi công bằng và minh bạch hơn."
)


def test_sentences_split_at_sentence_ends_not_inside_numbers() -> None:
    keys = sentence_keys("Ngày 21.2.2006 bộ ký quyết định. Học bổng 3.000 bảng Anh!\nDòng mới")
    expected = ["Ngày 21 2 2006 bộ ký quyết định", "Học bổng 3 000 bảng Anh", "Dòng mới"]
    assert [" ".join(k) for k in keys] == [matching_key(e) for e in expected]


def test_copy_with_extra_paragraphs_is_covered(seeds_dir: Path) -> None:
    scrape = clean(repair_text((seeds_dir / "000_f1cdcb0b2f19f625.txt").read_text())).text
    full = clean(repair_text((seeds_dir / "002_5681c2e147e64257.txt").read_text())).text
    # Every article sentence of the scrape is in 002, except its own title and rewritten lead.
    assert coverage(scrape, full) >= 0.8
    assert coverage(full, scrape) < coverage(scrape, full)  # 002 has two paragraphs more


def test_shared_quote_is_partial_reuse_not_a_copy() -> None:
    assert coverage(STORY_B, STORY_A) < 0.6
    assert coverage(STORY_A, STORY_A) == 1.0
    assert coverage("", STORY_A) == 0.0


def test_borderline_directions_are_checked_certain_ones_are_not() -> None:
    texts = {0: STORY_B, 1: STORY_A, 2: STORY_A, 3: STORY_A + " Thêm một câu."}
    scores = PairScores(
        a=np.array([0, 2]),
        b=np.array([1, 3]),
        intersection=np.array([10, 40]),
        jaccard=np.array([0.3, 0.95]),
        containment_a=np.array([0.65, 0.99]),  # 0 -> 1 borderline; 2 -> 3 certain
        containment_b=np.array([0.3, 0.96]),
    )
    asked: list[set[int]] = []

    def loader(docs: object) -> dict[int, str]:
        asked.append(set(docs))  # type: ignore[call-overload]
        return texts

    rejected = CopyRule.of(DedupConfig()).pair_rejections(scores, loader)
    assert rejected == {(0, 1)}
    assert asked == [{0, 1}]  # only the borderline pair's texts were read back
    never = CopyRule.of(DedupConfig(certain_containment=0.0))
    assert never.pair_rejections(scores, loader) == set()


# ------------------------------------------------------------------ generated texts

TOPIC = (
    "chính quyền địa phương cho biết dự án nhà máy điện mặt trời sẽ được triển khai trên diện "
    "tích lớn tại khu vực ven biển nhằm cung cấp nguồn năng lượng sạch cho người dân và doanh "
    "nghiệp trong tỉnh theo kế hoạch đã được phê duyệt từ đầu năm nay với tổng vốn đầu tư "
    "hàng nghìn tỷ đồng đến từ nhiều nhà đầu tư trong và ngoài nước cùng tham gia góp vốn"
)
WORDS = TOPIC.split()


def story(rng: random.Random, sentences: int = 10, words: int = 18) -> list[str]:
    """Sentences of random words from one vocabulary (same-topic text with no shared sentence)."""
    return [
        " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."
        for _ in range(sentences)
    ]


def edit(sentence: str, rng: random.Random) -> str:
    """One light edit: a word of the sentence replaced by another (about 1 word in 18)."""
    words = sentence.rstrip(".").split()
    words[rng.randrange(1, len(words))] = rng.choice(["hay", "nói", "thêm", "khoảng"])
    return " ".join(words) + "."


def test_copy_edited_in_every_sentence_is_a_copy() -> None:
    rng = random.Random(7)
    original = story(rng)
    repost = [edit(s, rng) for s in original]
    alignment = aligned_coverage(" ".join(repost), " ".join(original))
    assert alignment.coverage >= 0.9  # the exact 5-gram check lost most of these
    assert alignment.edited >= 0.8
    edited = [m for m in alignment.sentences if m.status == "edited"]
    assert all(0.85 <= m.similarity < 1.0 and m.target for m in edited)


def test_split_sentence_and_added_clause_still_align() -> None:
    rng = random.Random(11)
    original = story(rng, sentences=6, words=24)
    first, second = original[0].rstrip(".").split()[:12], original[0].rstrip(".").split()[12:]
    repost = [" ".join(first) + ".", " ".join(second).capitalize() + "."]  # split in two
    repost += [s.rstrip(".") + ", theo báo cáo của sở." for s in original[1:]]  # clause added
    assert coverage(" ".join(original), " ".join(repost)) >= 0.9


def bulletin(rng: random.Random, day: int) -> str:
    """A templated weather/price bulletin: fixed wording, the day's figures."""
    t = [rng.randint(15, 39) for _ in range(6)]
    g = rng.randint(60, 90)
    return (
        f"Dự báo thời tiết ngày {day} tháng 6: Hà Nội nhiệt độ từ {t[0]} đến {t[1]} độ C, "
        f"có mưa rào và dông vài nơi. TP.HCM nhiệt độ từ {t[2]} đến {t[3]} độ C, chiều tối "
        f"có mưa. Đà Nẵng nhiệt độ từ {t[4]} đến {t[5]} độ C, trời nắng nóng. Giá vàng SJC "
        f"hôm nay niêm yết ở mức {g},{rng.randint(10, 99)} triệu đồng mỗi lượng mua vào. "
        f"Tỷ giá trung tâm được công bố ở mức {rng.randint(23000, 25999)} đồng mỗi đô la Mỹ."
    )


def test_templated_bulletins_with_other_figures_are_not_copies() -> None:
    rng = random.Random(3)
    for day in range(1, 11):
        today, tomorrow = bulletin(rng, day), bulletin(rng, day + 1)
        assert coverage(today, tomorrow) < 0.3
    same = bulletin(random.Random(5), 4)
    assert coverage(same, same) == 1.0


def test_a_figure_added_or_cut_is_an_edit_a_replaced_one_is_not() -> None:
    base = "Vụ tai nạn giao thông trên quốc lộ 14 khiến nhiều người bị thương nặng phải nhập viện"
    added = base.replace("nhiều người", "12 người")  # a figure only one side has: an edit
    other = "Vụ tai nạn giao thông trên quốc lộ 19 khiến nhiều người bị thương nặng phải nhập viện"
    assert coverage(added, base) == 1.0
    assert coverage(other, base) == 0.0  # 14 vs 19: each side has a figure the other lacks


def test_a_leading_zero_is_style_not_another_figure() -> None:
    # "10/02/2017" and "10.2.2017", "03 năm" and "3 năm": the same figures written two ways.
    x = "Thông tư có hiệu lực từ ngày 10/02/2017 và áp dụng cho dự án giải ngân trong 03 năm"
    y = "Thông tư có hiệu lực từ ngày 10.2.2017 và được áp dụng cho dự án giải ngân trong 3 năm"
    assert aligned_coverage(x, y).edited == 1.0
    other = x.replace("10/02/2017", "10/04/2017")  # another month: a replaced figure
    assert coverage(other, y) == 0.0
    # Figures are sets: a month that also occurs elsewhere in the sentence ("03 năm") is not
    # seen as replaced. The definition of a copy compares them so (see ``_conflict``).
    assert coverage(x.replace("10/02/2017", "10/03/2017"), y) == 1.0


def test_independent_writeups_of_one_event_stay_apart() -> None:
    rng = random.Random(19)
    for _ in range(20):
        a, b = story(rng), story(rng)  # same topic words, no shared sentence
        assert coverage(" ".join(a), " ".join(b)) < 0.3
    # Sharing a third of the sentences (a press release quoted by both) is partial reuse.
    a, b = story(rng), story(rng)
    b[:3] = a[:3]
    assert 0.2 < coverage(" ".join(b), " ".join(a)) < 0.6


def test_only_the_removable_direction_is_aligned() -> None:
    texts = {0: STORY_B, 1: STORY_A}
    scores = PairScores(
        a=np.array([0]),
        b=np.array([1]),
        intersection=np.array([10]),
        jaccard=np.array([0.3]),
        containment_a=np.array([0.65]),
        containment_b=np.array([0.45]),
    )
    rule = CopyRule.of(DedupConfig())
    assert rule.pair_rejections(scores, lambda _: texts) == {(0, 1), (1, 0)}
    # 1 is preferred (kept): 1 -> 0 can never be used and is not aligned.
    assert rule.pair_rejections(scores, lambda _: texts, np.array([False])) == {(0, 1)}
    assert rule.pair_rejections(scores, lambda _: texts, np.array([True])) == {(1, 0)}


def test_reproduces_settles_early_with_the_coverage_answer() -> None:
    """``reproduces`` (the text check's early-stopping form) answers as the full alignment."""
    rng = random.Random(23)
    phrase = "bộ ngoại giao xác nhận sẽ hội đàm với quan chức hàng đầu vào tuần tới 2024 15"
    words = phrase.split()

    def sentence() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) + "."

    for _ in range(300):
        base = [sentence() for _ in range(rng.randint(1, 10))]
        other = [
            s
            if rng.random() < 0.5
            else (s.replace(rng.choice(words), "đổi") if rng.random() < 0.5 else sentence())
            for s in base
        ]
        rng.shuffle(other)
        x, y = " ".join(base), " ".join(other + [sentence() for _ in range(rng.randint(0, 4))])
        for share in (0.3, 0.6, 0.9):
            assert reproduces(x, y, share) == (aligned_coverage(x, y).coverage >= share)
