"""Wrong encodings repaired for matching (core/encoding.py): mojibake, TCVN3, VNI.

Texts are generated here: news-like Vietnamese articles from a vocabulary that covers every
Vietnamese letter, damaged the way real pipelines damage them, and an encoder for each legacy
encoding written independently of the decoder (by decomposing each letter into base, shape and
tone), so a wrong table entry shows as a failed round trip.
"""

from __future__ import annotations

import random
import unicodedata

import orjson
import pytest
from click.testing import CliRunner

from tinlap.apps.cli import main
from tinlap.core import encoding
from tinlap.core.encoding import (
    is_syllable,
    looks_mojibake,
    repair_encoding,
    repair_legacy,
    repair_mojibake,
)
from tinlap.core.normalise import matching_key, repair_text

WORDS = """người Việt Nam Hà Nội thành phố Hồ Chí Minh được những của cho với không một các
trong này đã sẽ đang cũng như vậy nhưng khi theo năm tháng ngày giờ phút đồng tỷ triệu
nghìn bộ trưởng chính phủ quốc hội kinh tế xã hội giáo dục y tế thể thao văn hóa du lịch
tiền lương giá xăng dầu vàng bạc đô la ngân hàng lãi suất thị trường chứng khoán cổ phiếu
doanh nghiệp xuất khẩu nhập khẩu gạo cà phê hồ tiêu thủy sản công nghiệp nông nghiệp
học sinh sinh viên trường đại học thầy cô giáo kỳ thi tốt nghiệp điểm chuẩn tuyển sinh
bệnh viện bác sĩ bệnh nhân phẫu thuật ung thư tiêm chủng vắc xin dịch bệnh cúm gia cầm
đội tuyển bóng đá huấn luyện viên cầu thủ trận đấu bàn thắng vô địch giải khán giả
ông bà anh chị em họ tên tuổi nhà cửa đường phố quận huyện tỉnh xã ấp thôn bản làng
mưa bão lũ lụt nắng nóng gió mùa đông bắc biển đảo sông suối rừng núi đồi ruộng vườn
nhỏ bỏ hỏi giỏi đỏ mời trời đời chờ cười mười về nhiều điều đề chọn gọi đọc học trọng
khuỷu tay quẫy đuôi nguyễn thuở xưa ước mơ ưu tiên ổn định ảnh hưởng ấn tượng ẩn số
ỷ lại ỹ ợ ữ ự ừ ử ứ ỡ ở ớ ộ ổ ỗ ồ ố ọ ỏ ị ỉ ĩ ệ ể ễ ề ế ẹ ẻ ẽ ặ ẳ ẵ ằ ắ ậ ẩ ẫ ầ ấ ạ ả ỵ ỳ ỷ ụ ủ ũ
ĐẢNG ĐOÀN VIỆT NAM ĐỘC LẬP TỰ DO HẠNH PHÚC Ủy ban Nhân dân Ấn Độ Á Âu Ở""".split()  # noqa: SIM905


def article(seed: int, sentences: int = 12) -> str:
    """A news-like article: a title line, then paragraphs of sentences."""
    rng = random.Random(seed)

    def sentence() -> str:
        words = rng.choices(WORDS, k=rng.randint(12, 24))
        words.insert(rng.randint(1, 5), str(rng.randint(2, 2024)))
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice([".", ".", ",", "?"])

    title = " ".join(rng.choices(WORDS, k=8)).capitalize()
    body = [" ".join(sentence() for _ in range(3)) for _ in range(sentences // 3)]
    return "\n".join([title, *body])


# Independent encoders: base letter, vowel shape (circumflex, breve, horn) and tone.
_TONE_NAMES = {"\u0301": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0323": 4}


def _parts(ch: str) -> tuple[str, str, int | None]:
    d = unicodedata.normalize("NFD", ch)
    tone = next((_TONE_NAMES[m] for m in d[1:] if m in _TONE_NAMES), None)
    shape = "".join(m for m in d[1:] if m not in _TONE_NAMES)
    return d[0], shape, tone


def to_vni(text: str) -> str:
    tones, hats, breves = "ùøûõï", "áàåãä", "éèúüë"
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 128:
            out.append(ch)
            continue
        base, shape, tone = _parts(ch)
        low = base.lower()
        if ch in "đĐ":
            enc = "ñ"
        elif shape == "\u0302":
            enc = low + ("â" if tone is None else hats[tone])
        elif shape == "\u0306":
            enc = low + ("ê" if tone is None else breves[tone])
        elif shape == "\u031b":
            enc = {"o": "ô", "u": "ö"}[low] + ("" if tone is None else tones[tone])
        elif low == "i" and tone is not None:
            enc = "íìæóò"[tone]
        elif low == "y" and tone == 4:
            enc = "î"
        elif tone is not None:
            enc = low + tones[tone]
        else:
            enc = ch
        out.append(enc.upper() if base.isupper() else enc)
    return "".join(out)


def to_tcvn3(text: str) -> str:
    """TCVN3 as a Latin-1 reader shows it; toned capitals have no code (the caps font draws the
    lower-case code), so they go to their lower-case code, as in real TCVN3 text."""
    code = {letter: chr(b) for b, letter in encoding._TCVN3_BYTES.items()}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(code.get(ch) or code.get(ch.lower()) or ch if ord(ch) > 127 else ch)
    return "".join(out)


def mojibake(text: str, codec: str, errors: str = "strict") -> str:
    return text.encode("utf-8").decode(codec, errors=errors)


ARTICLES = [article(seed) for seed in range(12)]

NOT_VIETNAMESE = [
    "L'été dernier, à Montréal, nous étions très occupés. Où est la gare? Ça coûte trop cher, "
    "déjà vu, crème brûlée, naïve, Noël, garçon, à bientôt, hôtel, forêt, où, première.",
    "Größere Städte in Österreich: Wien, Graz, Linz. Die Bürger wählen für Änderungen, "
    "schön, über, Mädchen, Fußgänger, Brötchen, Würstchen, grün, Tür, Öl, Ärger, Müller.",
    "El niño comió una piña en España. Mañana iré al año nuevo con mi señora; ¿Qué pasó? "
    "¡Olé! corazón, canción, acción, también, está, árbol, útil, pingüino, cigüeña.",
    "Søren og Åse bor på Ærø. Blåbærsyltetøj, smørrebrød, øl, år, være, søster, køre.",
    "Sony® camera with a 5µm sensor, 2× zoom, ±0.3 EV, ¼ inch, 90° field, © 2024, ½ price.",
    "Os cidadãos não estão à espera: ação, informação, avó, você, está, três, português.",
]


# --------------------------------------------------------------------------------- mojibake


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_mojibake_of_every_article_is_repaired_exactly(form: str, codec: str) -> None:
    for text in ARTICLES:
        source = unicodedata.normalize(form, text)
        damaged = mojibake(source, codec, "replace" if codec == "cp1252" else "strict")
        assert looks_mojibake(damaged)
        repaired = repair_mojibake(damaged)
        if codec == "latin-1":
            assert repaired == unicodedata.normalize("NFC", text)
        assert matching_key(repair_text(damaged)).count(" ") == matching_key(text).count(" ")


@pytest.mark.parametrize("errors", ["replace", "ignore"])
def test_letters_windows_1252_loses_are_guessed_from_the_syllable(errors: str) -> None:
    # ờ ọ ỏ ề end in a byte Windows-1252 has no character for: the decoder replaced or dropped
    # it; the word tells which letter it was.
    text = "Người dân về học nhỏ bỏ hỏi giỏi nhiều điều trọng thời Đà Nẵng ÁO"
    assert repair_mojibake(mojibake(text, "cp1252", errors)) == text


def test_mojibake_repair_recovers_most_key_tokens_when_bytes_were_lost() -> None:
    for text in ARTICLES:
        repaired = repair_text(mojibake(text, "cp1252", "replace"))
        ours, theirs = matching_key(repaired).split(), matching_key(text).split()
        same = sum(a == b for a, b in zip(ours, theirs, strict=False))
        assert same >= 0.95 * len(theirs)


def test_clean_text_is_returned_untouched_as_the_same_object() -> None:
    for text in [*ARTICLES, *NOT_VIETNAMESE, "", "Â Ã Ä Æ ÁO ĐÃ XÃ HỘI ĐÂU"]:
        text = unicodedata.normalize("NFC", text)
        assert repair_encoding(text) is text
        assert not looks_mojibake(text)


def test_repair_text_repairs_before_dropping_soft_hyphens() -> None:
    # "ử" is E1 BB AD in UTF-8: read as Latin-1 its last byte is a soft hyphen, which
    # repair_text deletes as an invisible character, after the repair.
    assert repair_text(mojibake("lịch sử Việt Nam", "latin-1")) == "lịch sử Việt Nam"
    assert repair_text("a\u00adb") == "ab"


# ---------------------------------------------------------------------------- TCVN3 and VNI


def test_vni_articles_convert_exactly() -> None:
    for text in ARTICLES:
        assert repair_legacy(to_vni(text)) == text


def test_tcvn3_articles_convert_to_the_same_key() -> None:
    for text in ARTICLES:
        converted = repair_legacy(to_tcvn3(text))
        assert converted is not to_tcvn3(text)
        assert matching_key(converted) == matching_key(text)


def test_tcvn3_known_words() -> None:
    assert repair_legacy("Céng hßa x· héi chñ nghÜa ViÖt Nam") == (
        "Cộng hòa xã hội chủ nghĩa Việt Nam"
    )
    assert repair_legacy("§éc lËp - Tù do - H¹nh phóc\nNg­êi d©n Hµ Néi") == (
        "Độc lập - Tự do - Hạnh phúc\nNgười dân Hà Nội"
    )


def test_vni_known_words() -> None:
    assert repair_legacy("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam") == (
        "Cộng hòa xã hội chủ nghĩa Việt Nam"
    )


@pytest.mark.parametrize("text", NOT_VIETNAMESE)
def test_other_languages_are_never_converted(text: str) -> None:
    assert repair_legacy(text) is text
    assert repair_text(text) == unicodedata.normalize("NFC", text)


def test_unicode_lines_of_a_mixed_page_stay_as_they_are() -> None:
    unicode_title = "Giá cà phê hôm nay tăng mạnh ở Tây Nguyên"
    legacy_body = to_tcvn3(ARTICLES[0].split("\n", 1)[1])
    converted = repair_legacy(unicode_title + "\n" + legacy_body)
    assert converted.split("\n")[0] == unicode_title
    assert matching_key(converted.split("\n", 1)[1]) == matching_key(ARTICLES[0].split("\n", 1)[1])


def test_too_little_evidence_converts_nothing() -> None:
    assert repair_legacy("Hµ Néi") == "Hµ Néi"  # two words: not enough to call it TCVN3


def test_syllable_shape() -> None:
    for word in ["người", "nghiêng", "khuỷu", "quốc", "Đà", "ạ", "trường", "gì"]:
        assert is_syllable(word), word
    for word in ["fỹr", "ộglise", "xyz", "nghiêngg", "hoàá", "strong"]:
        assert not is_syllable(word), word


# ------------------------------------------------------------------------------ end to end


def test_damaged_copies_are_found_by_dedup(tmp_path) -> None:
    damages = {
        "latin1": lambda t: mojibake(t, "latin-1"),
        "cp1252": lambda t: mojibake(t, "cp1252", "replace"),
        "cp1252-ignore": lambda t: mojibake(t, "cp1252", "ignore"),
        "tcvn3": to_tcvn3,
        "vni": to_vni,
    }
    rows = [{"id": f"orig-{i}", "text": t} for i, t in enumerate(ARTICLES[:4])]
    for name, damage in damages.items():
        rows += [{"id": f"{name}-{i}", "text": damage(t)} for i, t in enumerate(ARTICLES[:4])]
    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))

    for flag, expect_text in (([], "repaired"), (["--keep-original-text"], "as read")):
        out = tmp_path / f"out-{expect_text}"
        args = ["dedup", "-j", "1", "-q", "--keep", "first", str(corpus), "-o", str(out), *flag]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        kept = {
            r["id"]: r["text"]
            for r in map(orjson.loads, (out / "kept.jsonl").read_bytes().splitlines())
        }
        assert set(kept) == {f"orig-{i}" for i in range(4)}  # every damaged copy removed
        assert kept["orig-0"] == (ARTICLES[0] if expect_text == "repaired" else rows[0]["text"])


def test_kept_text_is_repaired_unless_asked_to_keep_it_as_read(tmp_path) -> None:
    damaged = mojibake(ARTICLES[5], "latin-1")
    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes(orjson.dumps({"id": "x", "text": damaged}) + b"\n")
    for flag, expected in (([], ARTICLES[5]), (["--keep-original-text"], damaged)):
        out = tmp_path / f"out{len(flag)}"
        args = ["dedup", "-j", "1", "-q", str(corpus), "-o", str(out), *flag]
        assert CliRunner().invoke(main, args).exit_code == 0
        assert orjson.loads((out / "kept.jsonl").read_bytes())["text"] == expected
