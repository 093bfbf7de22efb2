"""The alignment behind explanations: shared passages and one-sided text, as spans of each text."""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise
from pathlib import Path

from helpers import SEED_CLEAN, SEED_SCRAPE
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.apps.explain import lines
from tinlap.apps.retrieve import from_file
from tinlap.core.align import Side, Span, align

STORY = (
    "Bộ Ngoại giao Mỹ xác nhận Ngoại trưởng sẽ hội đàm với các quan chức hàng đầu của Trung "
    "Quốc vào tuần tới tại Anchorage"
)


def _texts(text: str, spans: list[Span]) -> list[str]:
    return [text[s:e] for s, e in spans]


def _inside(start: int, end: int, spans: list[Span]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _overlaps(start: int, end: int, spans: list[Span]) -> bool:
    return any(s < end and start < e for s, e in spans)


def test_seed_pair(seeds_dir: Path) -> None:
    scrape, clean = from_file(seeds_dir / SEED_SCRAPE), from_file(seeds_dir / SEED_CLEAN)
    alignment = align(scrape.cleaned, clean.cleaned)

    # Every sentence of the scrape's article is found in the clean copy. (Its title is not:
    # the clean copy starts with the lead, so only the title's tail "Trung Quốc vào tuần tới"
    # is shared.) Only two lead-ins were reworded away.
    title, body = scrape.cleaned.split("\n", 1)
    sentences = [
        (m.start() + len(title) + 1, m.end() + len(title) + 1)
        for m in re.finditer(r"[^\n]+?(?:[.!?](?=\s|$)|$)", body, re.M)
        if m.group().strip()
    ]
    assert len(sentences) >= 8
    for start, end in sentences:
        letters = [i for i in range(start, end) if scrape.cleaned[i].isalnum()]
        found = [i for i in letters if _inside(i, i + 1, alignment.a.shared)]
        assert len(found) >= 0.9 * len(letters), scrape.cleaned[start:end]
    assert _texts(scrape.cleaned, alignment.a.only) == [
        'Mỹ "chốt" địa điểm sẽ gặp',
        "Được biết,",
        "Theo đó,",
    ]

    # The two paragraphs only the clean copy has are marked as only there, whole.
    for opening in ('"Chúng tôi sẽ thẳng thắn', "Ông Blinken nói:"):
        start = clean.cleaned.index(opening)
        end = clean.cleaned.index("\n", start) if "\n" in clean.cleaned[start:] else None
        end = end or len(clean.cleaned)
        assert _inside(start, end, alignment.b.only), opening
        assert not _overlaps(start, end, alignment.b.shared), opening

    # The scrape's boilerplate is shown as removed, in place, and is in neither text's marks.
    shown = lines(scrape, alignment.a)
    struck = [line[0].text for line in shown if line and line[0].kind == "boilerplate"]
    assert struck == [r.text.strip() for r in scrape.removed]
    for chrome in ("Tin bài liên quan", "Đọc nhiều", "Multimedia", "[Video] Đồng tâm"):
        assert any(s.startswith(chrome) for s in struck), chrome
        assert chrome not in scrape.cleaned
    first_struck = next(i for i, line in enumerate(shown) if line and line[0].rule)
    assert "".join(p.text for p in shown[first_struck - 1]).startswith("Tuy nhiên")


def test_spelling_variants_are_shared_and_marked_on_the_original_text() -> None:
    a = f"{STORY}, ông nói về hòa bình."
    b = unicodedata.normalize("NFD", f"«{STORY.upper()}» – ÔNG NÓI VỀ HOÀ BÌNH!!")
    alignment = align(a, b)
    assert _texts(a, alignment.a.shared) == [a]  # the final "." belongs to the last token
    assert alignment.a.only == [] and alignment.b.only == []
    assert _texts(b, alignment.b.shared) == [b]


def test_one_sided_text_and_keyless_tokens() -> None:
    a = f"{STORY} - | {STORY.replace('Mỹ', 'Anh')}"
    b = f"Mở đầu khác hẳn. {STORY}"
    alignment = align(a, b)
    assert _texts(a, alignment.a.shared)[0] == STORY  # the lone "-" and "|" are no passage
    assert _texts(b, alignment.b.only) == ["Mở đầu khác hẳn."]
    assert _texts(b, alignment.b.shared) == [STORY]


def test_shorter_than_a_shingle() -> None:
    assert align("Hà Nội mưa", "hà nội, mưa").a.shared == [(0, 10)]
    assert align("Hà Nội mưa", "Hà Nội nắng").a.only == [(0, 10)]
    assert align("", STORY).a == Side([], [])
    assert align("", STORY).b.only == [(0, len(STORY))]


WORDS = st.sampled_from(
    [
        *("một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười", "Hà", "Nội,"),
        *("-", "|", "hoà", "hòa", "HOÀ"),  # keyless tokens; tone placements and case
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(WORDS, max_size=40),
    st.lists(WORDS, max_size=40),
    st.sampled_from([" ", "\n", "  "]),
    st.integers(1, 6),
)
def test_spans_partition_every_word(a: list[str], b: list[str], sep: str, n: int) -> None:
    ta, tb = sep.join(a), sep.join(b)
    alignment = align(ta, tb, n)
    for text, side in ((ta, alignment.a), (tb, alignment.b)):
        _check_side(text, side)
    assert align(tb, ta, n) == type(alignment)(alignment.b, alignment.a)
    assert align(ta, ta, n).a.only == []


def _check_side(text: str, side: Side) -> None:
    spans = sorted(side.shared + side.only)
    for (_, end), (start, _) in pairwise(spans):
        assert end < start  # sorted, disjoint, a gap (at least a space) between
    for s, e in spans:
        assert 0 <= s < e <= len(text)
        assert text[s:e] == text[s:e].strip()
    for m in re.finditer(r"\S+", text):
        if any(c.isalnum() for c in m.group()):  # a word: in exactly one kind of span
            assert _inside(m.start(), m.end(), side.shared) != _inside(
                m.start(), m.end(), side.only
            )
