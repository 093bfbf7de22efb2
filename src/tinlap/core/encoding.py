"""Text in the wrong encoding, found cheaply and repaired: mojibake, TCVN3 (ABC) and VNI.

Copies of one story reach a crawl through different pipelines, and some pipelines get the
encoding wrong. Without repair such a copy shares no key token with its original:

* **mojibake**: UTF-8 bytes decoded as Windows-1252 or Latin-1 ("Việt Nam" → "Viá»‡t Nam").
  Repaired by ftfy (plus a byte-level fallback for the segments ftfy leaves);
* **TCVN3 (ABC)** and **VNI**: the two legacy 8-bit Vietnamese encodings of the 1990s and 2000s
  (font encodings: .VnTime, VNI-Times), still found in old documents and in text copied out of
  them. Read as Latin-1/Windows-1252 they look like "ViÖt Nam" (TCVN3) or "Vieät Nam" (VNI).
  Converted with the tables below, written from the encodings' public definitions.

Every detector is a few substring scans on clean text (the common case) and returns the same
object untouched; the expensive work runs only on text that shows the damage. Legacy text is
converted only when the conversion turns the words it touches into valid Vietnamese syllables
(a Vietnamese syllable has a strict shape: initial consonant, one to three vowels, final
consonant, one tone), so French, German or Spanish text with the same letters is never touched,
and only on lines without a Unicode Vietnamese letter, so a page mixing Unicode and legacy lines
keeps its Unicode lines as they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import ftfy

# --------------------------------------------------------------------------------------------
# Mojibake: UTF-8 read as Windows-1252 / Latin-1
# --------------------------------------------------------------------------------------------

# Windows-1252's characters for bytes 0x80-0x9F (the five bytes it leaves undefined are absent).
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
# A UTF-8 continuation byte (0x80-0xBF) as Latin-1 or Windows-1252 shows it.
_CONT = "\u0080-\u00bf" + _CP1252_HIGH
# Vietnamese letters outside ASCII are 2 or 3 UTF-8 bytes led by 0xC3/0xC4/0xC5/0xC6/0xC2
# (Ã Ä Å Æ Â: à, đ, ơ, ư ...), 0xE1 0xBA/0xBB (á º/»: ạ ... ỹ) or, in NFD text, 0xCC/0xCD
# (Ì Í: the combining tone marks). Clean text has these leads followed by a continuation
# character essentially never ("áº" and "á»" never), and ftfy judges each match again anyway.
_MOJIBAKE = re.compile(f"[\u00c2-\u00c6\u00cc\u00cd][{_CONT}]|\u00e1[\u00ba\u00bb][{_CONT}\ufffd]?")
_LEADS = (
    "\u00c3",
    "\u00c4",
    "\u00c6",
    "\u00c2",
    "\u00c5",
    "\u00cc",
    "\u00e1\u00ba",
    "\u00e1\u00bb",
)
MIN_MOJIBAKE_HITS = 2

# One UTF-8 sequence as Latin-1/Windows-1252 characters: a lead and its continuations, or fewer
# when the decoder lost a byte (U+FFFD for "replace", nothing for "ignore").
_SEQUENCE = re.compile(
    f"[\u00c2-\u00df][{_CONT}\ufffd]|[\u00e0-\u00ef][{_CONT}\ufffd]{{1,2}}|[\u00c3\u00c4\u00cc]"
)
_TO_BYTE = {
    ch: bytes([0x80 + i]) for i, ch in enumerate("€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ")
}
_TO_BYTE.update({chr(b): bytes([b]) for b in range(0x80, 0x100) if chr(b) not in _CP1252_HIGH})
_TO_BYTE["\ufffd"] = b""
# Windows-1252 has no character for 0x81, 0x8D, 0x8F, 0x90 and 0x9D, so a decoder loses them;
# in Vietnamese they are the last byte of ề ọ ỏ Ố ờ (E1 BB xx), Á Í Ý (C3 xx), Đ (C4 90) and,
# in NFD text, the combining acute accent (CC 81).
_LOST_E1BB, _LOST_C3 = "\ue000", "\ue001"  # private-use marks until the word is read
_LOST = {b"\xe1\xbb": _LOST_E1BB, b"\xc3": _LOST_C3, b"\xc4": "Đ", b"\xcc": "\u0301"}
_LOST_CHOICES = {_LOST_E1BB: "ờọềỏ", _LOST_C3: "ÁÍÝ"}
# Common syllables with a letter that can be lost, most frequent first (written for this
# purpose): a lost letter becomes the one that makes its word one of these, else the first
# that makes a syllable.
_COMMON_LOST = {
    w: rank
    for rank, w in enumerate(
        """người về nhiều điều học họ thời đề trọng giờ mọi nhỏ bỏ hỏi tiền quyền lời chọn
        đọc gọi đều giỏi đỏ mời trời đời họp liền nền miền khỏe khỏi chờ cười mười chiều
        triều truyền bền tỏ ngọc thọ lọc vọng bọn dọn lỏng mỏng cỏ nhờ rời kiều thuyền
        huyền chuyền phiền hiền thiền đền kề thề mềm thềm bờ cờ ngờ thờ tờ dời họa tọa thỏa
        tỏa dọa mỏ vỏ bỏng hỏng mỏi ngỏ nỏ thỏ giỏ xỏ gỏi bọ lọ nọ gọn mọc nhọc chọc bọt
        ngọt gọt lọt bọc cọc đọng họng rọi liều lều viền bề hề nề mề vờ sờ hờ mờ lười tười
        ghềnh kềnh thỏi lỏi""".split()  # noqa: SIM905
    )
}
_MARKED_WORD = re.compile(r"(?:[^\W_]|[\ue000\ue001])*[\ue000\ue001](?:[^\W_]|[\ue000\ue001])*")


def _decode_sequence(match: re.Match[str]) -> str:
    chars = match.group()
    raw = b"".join(_TO_BYTE.get(ch, b"?") for ch in chars)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        lost = _LOST.get(raw)
        if lost is not None:
            return lost
        return chars if "\ufffd" not in chars else raw.decode("utf-8", errors="replace")


def _choose(word: str) -> str:
    """A word with lost letters (marks), each replaced by its likeliest letter."""
    for k, ch in enumerate(word):
        if ch in _LOST_CHOICES:
            options = _LOST_CHOICES[ch]
            if ch == _LOST_E1BB and word.isupper():
                options = "Ố"  # the only capital of the group
            tries = [word[:k] + o + word[k + 1 :] for o in options]
            known = [t for t in tries if t.casefold() in _COMMON_LOST]
            if known:
                best = min(known, key=lambda t: _COMMON_LOST[t.casefold()])
            else:
                best = next((t for t in tries if is_syllable(_unmarked(t))), tries[0])
            return _choose(best)
    return word


def _unmarked(word: str) -> str:
    return word.replace(_LOST_E1BB, "o").replace(_LOST_C3, "a")


def looks_mojibake(text: str) -> bool:
    """At least two UTF-8-read-as-Windows-1252/Latin-1 letter patterns in ``text``."""
    if not any(lead in text for lead in _LEADS):
        return False  # the common case: a few C-level substring scans, no regex
    hits = _MOJIBAKE.finditer(text)
    return all(next(hits, None) is not None for _ in range(MIN_MOJIBAKE_HITS))


def repair_mojibake(text: str) -> str:
    """``text`` with UTF-8/Windows-1252 mojibake undone; other text is returned as is.

    Each UTF-8 sequence shown as Latin-1/Windows-1252 characters is decoded back. A decoder
    that met the five bytes Windows-1252 leaves undefined replaced or dropped them: the lost
    letter (one of ề ọ ỏ ờ, or Á Í Ý, or Đ, given the bytes that remain) becomes the one that
    makes its word a common Vietnamese syllable. Whatever still looks damaged (text encoded
    twice, mixed segments) goes to ftfy, only its encoding fixes: quotes, ligatures, widths and
    HTML entities stay as the outlet wrote them.
    """
    if not looks_mojibake(text):
        return text
    fixed = _SEQUENCE.sub(_decode_sequence, text)
    if _LOST_E1BB in fixed or _LOST_C3 in fixed:
        fixed = _MARKED_WORD.sub(lambda m: _choose(m.group()), fixed)
    if looks_mojibake(fixed):
        fixed = ftfy.fix_text(
            fixed,
            unescape_html=False,
            uncurl_quotes=False,
            fix_latin_ligatures=False,
            fix_character_width=False,
            fix_line_breaks=False,
            normalization="NFC",
        )
    return unicodedata.normalize("NFC", fixed)


# --------------------------------------------------------------------------------------------
# TCVN3 (ABC, TCVN 5712:1993 VN3) and VNI (VNI-Windows): legacy 8-bit Vietnamese
# --------------------------------------------------------------------------------------------

# TCVN3: one byte per precomposed letter. Byte → letter, bytes 0xA1-0xFE; the upper-case toned
# letters have no code of their own (fonts such as .VnTimeH draw the lower-case codes as capitals).
_TCVN3_BYTES = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}  # fmt: skip
TCVN3 = {chr(b): letter for b, letter in _TCVN3_BYTES.items()}  # as read by Latin-1/cp1252
_TCVN3_TABLE = str.maketrans(TCVN3)
# Characters of TCVN3 text that Unicode Vietnamese never writes (symbols, and Latin-1 letters
# that are not Vietnamese): µ ¸ ® ­ ¹ · ¶ ª ¬ ¨ Ö Ë ... Unicode's own Vietnamese letters à á â
# ã è é ê ì í ò ó ô õ ù ú ý also occur in TCVN3 text but prove nothing.
_TCVN3_DISTINCT = frozenset(TCVN3) - frozenset("àáâãèéêìíòóôõùúý")
# The commonest of them (à á đ ạ ê ư ã ả ô ơ â ă ệ ị ậ ấ): two must occur before a line is read.
_TCVN3_CUES = tuple("\u00b5\u00b8\u00ae\u00b9\u00aa\u00ad\u00b7\u00b6\u00ab\u00ac\u00a9\u00a8ÖÞËÊ")

# VNI: an ASCII base letter followed by one mark byte (Latin-1 letters when read as such).
# Lower-case mark bytes; the upper-case text uses the byte 0x20 lower (same letter, capital).
_VNI_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_HAT = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
# Letters with a byte of their own: ơ ư đ, and i and ỵ with their tones.
_VNI_SINGLE = {
    "ô": "ơ",
    "ö": "ư",
    "ñ": "đ",
    "í": "í",
    "ì": "ì",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "î": "ỵ",
}


def _upper_marks(table: dict[str, str]) -> dict[str, str]:
    return {k.upper(): v.upper() if len(v) == 1 and v.isalpha() else v for k, v in table.items()}


_VNI_MARKS = {
    **_VNI_TONES, **_upper_marks(_VNI_TONES),
}  # fmt: skip
_VNI_HATS = {**_VNI_HAT, **_upper_marks(_VNI_HAT)}
_VNI_BREVES = {**_VNI_BREVE, **_upper_marks(_VNI_BREVE)}
_VNI_SINGLES = {**_VNI_SINGLE, **_upper_marks(_VNI_SINGLE)}
_VNI_TOKEN = re.compile(
    "[aeoAEO][âáàåãäÂÁÀÅÃÄ][ùøûõïÙØÛÕÏ]?"  # circumflex (+ tone): eâ = ê, oä = ộ
    "|[aA][êéèúüëÊÉÈÚÜË]"  # breve (+ tone): aê = ă, aé = ắ
    "|[ôöÔÖ][ùøûõïÙØÛÕÏ]?"  # ơ, ư (+ tone)
    "|[aeiouyAEIOUY][ùøûõïÙØÛÕÏ]"  # tone alone: aø = à
    "|[ñÑíìæóòîÍÌÆÓÒÎ]"  # đ, and i / ỵ with their tone
)
_VNI_CUES = ("\u00f8", "\u00d8", "\u00f9", "\u00d9", "\u00ef", "\u00cf", "\u00fb", "\u00db")
_VNI_DISTINCT = re.compile(
    "[aeiouyôöAEIOUYÔÖ][ùøûõïÙØÛÕÏ]|[aeoAEO][âåäÂÅÄ]|[aA][êëÊË]|[ñÑ][aeiouyô]"
)


def _vni_letter(token: str) -> str:
    base = token[0]
    if base in _VNI_SINGLES and len(token) == 1:
        return _VNI_SINGLES[base]
    if base in "ôöÔÖ":
        return unicodedata.normalize("NFC", _VNI_SINGLES[base] + _VNI_MARKS.get(token[1:], ""))
    mark = token[1]
    if mark in _VNI_HATS:
        accent = "\u0302" + _VNI_HATS[mark] + (_VNI_MARKS[token[2]] if len(token) > 2 else "")
    elif mark in _VNI_BREVES and base in "aA":
        accent = "\u0306" + _VNI_BREVES[mark]
    else:
        accent = _VNI_MARKS[mark]
    return unicodedata.normalize("NFC", base + accent)


def vni_to_unicode(text: str) -> str:
    """VNI text (read as Latin-1/Windows-1252) in Unicode; no check that it was VNI."""
    return _VNI_TOKEN.sub(lambda m: _vni_letter(m.group()), text)


def tcvn3_to_unicode(text: str) -> str:
    """TCVN3 text (read as Latin-1/Windows-1252) in Unicode; no check that it was TCVN3."""
    return text.translate(_TCVN3_TABLE)


# A Vietnamese syllable without its tone: initial, one to three vowels, final.
_SYLLABLE = re.compile(
    "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    "[aăâeêioôơuưy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
# Letters only Unicode Vietnamese writes: ă đ ơ ư (either case) and Latin Extended Additional.
_UNICODE_VIET = re.compile("[\u0102\u0103\u0110\u0111\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]")
_EDGES = "\"'()[]{}<>.,;:!?-–—…“”‘’*/|"  # not « » (TCVN3 ô, ằ)
_ALL_CAPS = re.compile("[^a-z]*[A-Z][^a-z]*[A-Z][^a-z]*")  # VIÖT: two ASCII capitals, no small
_SPACES = re.compile(r"(\s+)")
_PIECES = re.compile(r"[-/&.]")
_ACRONYM = re.compile("[A-ZĐ]{2,}")
MIN_LEGACY_WORDS = 3  # fewer converted words than this is no evidence
MIN_VALID_SHARE = 0.9  # of the words a conversion changes, this share must become syllables


def is_syllable(word: str) -> bool:
    """``word`` (NFC) has the shape of one Vietnamese syllable with at most one tone."""
    parts = unicodedata.normalize("NFD", word.casefold())
    tones = sum(c in _TONES for c in parts)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
    return _SYLLABLE.fullmatch(base) is not None


def _valid(old: str, new: str) -> bool:
    """Every part of a word that the conversion changed is a Vietnamese syllable (or an
    acronym with Đ): "USD/tấn", "đồng/kg", "HĐXX" pass, "fỹr" does not."""
    return all(
        b == a or is_syllable(b) or _ACRONYM.fullmatch(b) is not None
        for a, b in zip(_PIECES.split(old), _PIECES.split(new), strict=True)
    )


def _convert_line(
    line: str, convert: Callable[[str], str], distinct: Callable[[str], bool]
) -> tuple[str, int, int]:
    """The line converted word by word, and how many words the conversion changed into
    syllables and into something else. Lines with a Unicode Vietnamese letter, or without a
    character of the encoding that Unicode text never writes, stay as they are."""
    if _UNICODE_VIET.search(line) or not distinct(line):
        return line, 0, 0
    good = bad = 0
    words = _SPACES.split(line)
    for k in range(0, len(words), 2):
        word = words[k]
        core = word.strip(_EDGES)
        if not core:
            continue
        new = convert(core)
        if new == core:
            continue
        if _valid(core, new):
            good += 1
            if _ALL_CAPS.fullmatch(core):  # caps fonts drew lower-case codes as capitals
                new = new.upper()
        else:
            bad += 1  # a loanword ("ôtô"), a name: converted too if the text is legacy
        words[k] = word.replace(core, new, 1)
    return "".join(words), good, bad


def _repair_legacy(
    text: str, convert: Callable[[str], str], distinct: Callable[[str], bool]
) -> str:
    lines = text.split("\n")
    out, good, bad = [], 0, 0
    for line in lines:
        new, g, b = _convert_line(line, convert, distinct)
        out.append(new)
        good += g
        bad += b
    if good < MIN_LEGACY_WORDS or good < MIN_VALID_SHARE * (good + bad):
        return text
    return "\n".join(out)


def _tcvn3_distinct(line: str) -> bool:
    return any(c in _TCVN3_DISTINCT for c in line)


def _vni_distinct(line: str) -> bool:
    return _VNI_DISTINCT.search(line) is not None


def repair_legacy(text: str) -> str:
    """TCVN3 or VNI text converted to Unicode; any other text is returned as is (same object).

    Cheap cues first (characters that Unicode Vietnamese text never writes); then each line
    without a Unicode Vietnamese letter is converted word by word, and the conversion is kept
    only when at least ``MIN_LEGACY_WORDS`` words and ``MIN_VALID_SHARE`` of the words it
    changes become Vietnamese syllables.
    """
    if sum(cue in text for cue in _TCVN3_CUES) >= 2:
        fixed = _repair_legacy(text, tcvn3_to_unicode, _tcvn3_distinct)
        if fixed is not text:
            return fixed
    if sum(cue in text for cue in _VNI_CUES) >= 2:
        return _repair_legacy(text, vni_to_unicode, _vni_distinct)
    return text


def repair_encoding(text: str) -> str:
    """Mojibake undone, then legacy Vietnamese converted; clean text is returned as is."""
    return repair_legacy(repair_mojibake(text))
