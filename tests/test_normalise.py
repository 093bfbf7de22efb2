"""The matching key (tone styles, invisible characters, spaces, punctuation) and the tokeniser."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinlap.core.normalise import (
    TokenBatch,
    Tokeniser,
    matching_key,
    repair_text,
    token_hash,
    unit_pieces,
)

ZERO_WIDTH = ["\u200b", "\ufeff", "\u00ad", "\u200c", "\u200d", "\u2060"]
SPACES = [
    "\u00a0",
    "\u2002",
    "\u2003",
    "\u2009",
    "\u202f",
    "\u205f",
    "\u3000",
    "\u1680",
    "\t",
    "\n",
]


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def doc_tokens(batch: TokenBatch, i: int) -> list[int]:
    return batch.hashes[batch.offsets[i] : batch.offsets[i + 1]].tolist()


def reference_tokens(text: str, shingles: str = "words") -> list[int]:
    if shingles == "words":
        return [token_hash(t) for t in matching_key(text).split()]
    return [
        token_hash(u) for raw in text.split() for p in unit_pieces(raw, shingles) for u in p.units
    ]


def reference_chars(text: str, shingles: str) -> list[bool]:
    return [p.chars for raw in text.split() for p in unit_pieces(raw, shingles) for _ in p.units]


# --- tone placement -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old_style", "new_style"),
    [
        ("hòa", "hoà"),
        ("khỏe", "khoẻ"),
        ("thủy", "thuỷ"),
        ("Thúy", "Thuý"),
        ("họa", "hoạ"),
        ("lõa", "loã"),
        ("Hòa Bình khỏe mạnh", "Hoà Bình khoẻ mạnh"),
    ],
)
def test_old_and_new_tone_placement_give_one_key(old_style: str, new_style: str) -> None:
    assert nfc(old_style) != nfc(new_style)  # really two spellings
    assert matching_key(old_style) == matching_key(new_style)


@pytest.mark.parametrize(
    ("typo", "correct"), [("qúy", "quý"), ("baỏ", "bảo"), ("lựơng", "lượng"), ("hòan", "hoàn")]
)
def test_misplaced_tone_typos_equal_the_correct_word(typo: str, correct: str) -> None:
    assert nfc(typo) != nfc(correct)
    assert matching_key(typo) == matching_key(correct)


@pytest.mark.parametrize(("marked", "plain"), [("hoàn", "hoan"), ("huỳnh", "huynh")])
def test_closed_syllables_keep_their_tone(marked: str, plain: str) -> None:
    assert matching_key(marked) != matching_key(plain)
    assert matching_key(marked) == matching_key(nfd(marked))


def test_tones_are_kept_not_stripped() -> None:
    words = ["bán", "bàn", "bạn", "ban", "bản", "bãn"]
    assert len({matching_key(w) for w in words}) == len(words)


def test_tone_order_among_stacked_marks_does_not_matter() -> None:
    # ế typed as e + acute + circumflex (not canonically reordered: same combining class).
    assert matching_key("ngh" + "e\u0301\u0302") == matching_key("nghế")


def test_nfd_input_equals_nfc_input() -> None:
    text = "Thủ tướng Nguyễn Xuân Phúc đã ký quyết định về việc bổ nhiệm ông Trần Hữu Lượng."
    assert nfd(text) != text
    assert matching_key(nfd(text)) == matching_key(text)
    batch = Tokeniser().tokenise_batch([text, nfd(text)])
    assert doc_tokens(batch, 0) == doc_tokens(batch, 1) == reference_tokens(text)


# --- invisible characters, spaces, punctuation --------------------------------------------------


@pytest.mark.parametrize("zw", ZERO_WIDTH)
def test_zero_width_characters_vanish(zw: str) -> None:
    clean = matching_key("Hà Nội mưa to")
    for dirty in (
        f"H{zw}à N{zw}ội mưa to",
        f"{zw}Hà Nội{zw} mưa{zw} to",
        f"Hà {zw}Nội {zw} mưa to{zw}",
        f"Hà{zw} Nội mưa {zw}{zw}to",
    ):
        assert matching_key(dirty) == clean, repr(dirty)
    assert matching_key(zw) == ""


@pytest.mark.parametrize("space", SPACES)
def test_unicode_spaces_split_like_a_space(space: str) -> None:
    assert matching_key(f"Hà{space}Nội{space}{space}mưa") == matching_key("hà nội mưa")


def test_quote_and_dash_styles_give_one_key() -> None:
    curly = "“Hà Nội” – ‘Sài Gòn’ — «Huế» COVID–19"
    straight = '"Hà Nội" - \'Sài Gòn\' - "Huế" COVID-19'
    assert (
        matching_key(curly) == matching_key(straight) == matching_key("hà nội sài gòn huế covid 19")
    )


def test_punctuation_is_removed() -> None:
    assert matching_key("Hà Nội, ngày 10/3: mưa (to)!!! …và gió?") == matching_key(
        "hà nội ngày 10 3 mưa to và gió"
    )
    assert matching_key("... --- !!! ???") == ""


def test_case_is_folded_including_d_with_stroke() -> None:
    assert matching_key("ĐÀ NẴNG") == matching_key("đà nẵng") == matching_key("Đà Nẵng")
    assert matching_key("Đ") == "đ"
    assert matching_key("đ") != matching_key("d")


def test_digits_are_kept() -> None:
    assert matching_key("ngày 10/3") != matching_key("ngày 11/3")
    assert matching_key("ngày 10/3") == matching_key("ngày 10 3")


def test_full_width_forms_fold() -> None:
    assert (
        matching_key("ＣＯＶＩＤ－１９　ＨÀ")
        == matching_key("COVID-19 Hà")
        == matching_key("covid 19 hà")
    )


def test_compatibility_characters_never_leave_symbols_or_spaces_in_a_token() -> None:
    # Alnum characters whose NFKD holds punctuation or a space: ½ → 1⁄2, Ŀ → L·, ͺ → " ι".
    assert matching_key("½") == matching_key("1/2") == "1 2"
    assert matching_key("Ŀ") == "l"
    assert matching_key("aͺb") == "a ιb"
    batch = Tokeniser().tokenise_batch(["½", "½.", "(½)", "Ŀ,", "İ", "I\u0307"])
    for i, text in enumerate(["½", "½.", "(½)", "Ŀ,", "İ", "I\u0307"]):
        assert doc_tokens(batch, i) == reference_tokens(text), text
    assert doc_tokens(batch, 4) == doc_tokens(batch, 5)  # NFC and NFD of İ


# --- repair_text ---------------------------------------------------------------------------------


def test_repair_text_applies_nfc_and_drops_zero_width_only() -> None:
    text = "Hoà “Bình”, KHỎE – thủy: 10/3!"
    assert repair_text(text) == text  # case, punctuation and tone style untouched
    assert repair_text("hòa hoà") == "hòa hoà"  # both tone styles kept as written
    assert repair_text(nfd(text)) == text
    dirty = "".join(c + ZERO_WIDTH[i % len(ZERO_WIDTH)] for i, c in enumerate(text))
    assert repair_text(dirty) == text
    assert repair_text("") == ""


# --- tokeniser == matching key -------------------------------------------------------------------

VIET = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
PIECES = [
    *VIET,
    *VIET.upper(),
    *"\u0110\u0130\u00df\u00bd\u013f\u037a\ufdfa\uff21\uff11\uff10019",  # Đ İ ß ½ Ŀ ͺ ﷺ Ａ１０
    *"\u0300\u0301\u0303\u0309\u0323\u031b\u0302\u0306\u034f\u200e",  # marks, CGJ, LRM
    *ZERO_WIDTH,
    *SPACES,
    *(" ", "  ", "\r\n"),
    *".,;:!?\"'()[]{}«»“”‘’…-–—/_#%&@",
    *("中文", "発表した", "ｶﾞ", "\u3300", "ภาษา", "กำ", "ລາວ", "ខ្មែរ", "မြန်", "。", "，"),
]
alphabet = st.one_of(st.sampled_from(PIECES), st.characters(exclude_categories=("Cs",)))
texts = st.one_of(st.just(""), st.lists(alphabet, max_size=40).map("".join))


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, max_size=8))
def test_tokenise_batch_equals_matching_key(batch_texts: list[str]) -> None:
    batch = Tokeniser().tokenise_batch(batch_texts, "words")
    assert len(batch) == len(batch_texts)
    assert batch.offsets[0] == 0 and batch.offsets[-1] == len(batch.hashes)
    for i, text in enumerate(batch_texts):
        key = matching_key(text)
        assert key == " ".join(key.split())  # single spaces, no empty tokens
        assert doc_tokens(batch, i) == reference_tokens(text)


SHARED = Tokeniser()


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.lists(texts, max_size=6))
def test_tokenise_batch_is_stable_across_batches_and_cache_clears(
    first: list[str], second: list[str]
) -> None:
    tiny = Tokeniser(max_cache=2)
    for tokeniser in (SHARED, tiny):
        for shingles in ("words", "auto", "chars"):
            tokeniser.tokenise_batch(second, shingles)
            again = tokeniser.tokenise_batch(first + second, shingles)  # reuses (or clears) it
            for i, text in enumerate(first + second):
                assert doc_tokens(again, i) == reference_tokens(text, shingles)
                chars = reference_chars(text, shingles)
                if again.chars is None:  # no character units in the whole batch
                    assert not any(chars)
                else:
                    assert list(again.chars[again.offsets[i] : again.offsets[i + 1]]) == chars
    assert all(len(cache) <= 2 for cache in tiny._caches.values())


def test_tokenise_empty_inputs() -> None:
    tk = Tokeniser()
    assert len(tk.tokenise_batch([])) == 0
    batch = tk.tokenise_batch(["", "   ", "\u200b", "—"])
    assert len(batch) == 4 and len(batch.hashes) == 0
    assert batch.offsets.tolist() == [0, 0, 0, 0, 0]
