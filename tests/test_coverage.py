"""Sentence coverage and the sentence check of borderline pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinlap.config import DedupConfig
from tinlap.core.clean import clean
from tinlap.core.normalise import matching_key, repair_text
from tinlap.core.rules import CopyRule
from tinlap.core.sentences import coverage, sentence_keys
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
    assert coverage(scrape, full) >= 0.9  # the scrape's every article sentence is in 002
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
