"""Boilerplate removal before matching: single-document line rules for Vietnamese and English.

Two scrapes of one story differ mostly in site chrome (related-link lists, captions, share
widgets, footers). Left in, chrome dilutes the shingles the copies share and ties together
unrelated pages of one site. The cleaner drops whole lines and leans towards keeping: deleting a
real paragraph costs more than leaving a piece of chrome, so every rule wants a structural cue
(a header phrase, a bracketed tag, a credit label, a separator pattern) *and* a shape (short,
not a sentence) before it drops anything.

Line convention: a document is ``text.split("\\n")``; ``Removal.line`` is a 0-based index into
that list, so callers can map removals back to the input. Blank lines are never recorded.

Plug-in point: a rule is anything with a ``name`` and ``mark(lines, dropped)`` (``LineRule``).
Rules run in order over one shared ``dropped`` list, so a later rule sees what earlier ones
dropped (the header rule steps over already-dropped lines inside a related list). The
corpus-learned rule (``chrome.ChromeModel.rule_for``: a site's recurring lines) implements
``LineRule`` too and is passed per document as ``Cleaner.clean(text, extra=(rule,))``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from tinlap.core.normalise import cached_tokens, matching_key


@dataclass(frozen=True, slots=True)
class Removal:
    """One dropped line: its 0-based index in ``text.split("\\n")``, its text, the rule's name."""

    line: int
    text: str
    rule: str


@dataclass(frozen=True, slots=True)
class CleanResult:
    """Kept lines (right-stripped) joined by newlines, blank runs collapsed; and the removals.

    ``text`` is stripped as a whole; ``removed`` is in line order.
    """

    text: str
    removed: tuple[Removal, ...]


class LineRule(Protocol):
    """A line rule: marks the lines it removes; the plug-in point for corpus-learned rules."""

    name: str

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        """Set ``dropped[i] = self.name`` for lines this rule removes (leave others untouched).

        ``lines`` are the document's lines NFC-normalised and stripped (blank lines are "").
        """


# ---------------------------------------------------------------------------------------------
# Shared predicates
# ---------------------------------------------------------------------------------------------

MAX_KEY_WORDS = 8  # headers, widgets and label lines are short; longer lines never get a key
MAX_ITEM_WORDS = 40  # the longest headline in a link list; a longer line is a paragraph
_CLOSERS = "\"'”’»)]}*_|` \t\r"
_SENTENCE_END = frozenset(".:;,…")
_WORD_CHAR = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")
_HTML_TAGS = (
    "a|abbr|article|aside|b|big|blockquote|body|br|button|caption|center|col|colgroup|div|em"
    "|embed|figcaption|figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input"
    "|label|li|link|meta|nav|noscript|object|ol|option|p|param|script|section|select|small"
    "|span|strong|style|sub|sup|table|tbody|td|tfoot|th|thead|tr|u|ul"
)
# Markup that shows no text: images, empty links, HTML tags (known names only, so that
# "<The Palace: Jang Noksu>", a title in angle brackets, is text), entities, comments.
_INVISIBLE_MARKUP = re.compile(
    rf"!\[[^\]]*\]\([^)]*\)|\[\s*\]\([^)]*\)|</?(?:{_HTML_TAGS})\b[^<>]*>|<!--.*?-->|&#?\w+;",
    re.IGNORECASE,
)
_BULLET = "-–—•+*·►▶→>"
_DASHES = "-–—"


def short_key(line: str) -> str | None:
    """The matching key of a line of at most ``MAX_KEY_WORDS`` words, else None.

    Phrases are compared on the key so case, tone placement (khóa/khoá), colons and spacing do
    not matter. It equals ``matching_key(line)`` but is cached per line and built from cached
    per-token keys: a corpus has few distinct syllables, so even an unseen short line costs
    dictionary hits, not Unicode work. Long lines (never a header or a widget) get no key.
    """
    return _short_key(line) if len(line) <= 12 * MAX_KEY_WORDS else None


@lru_cache(maxsize=1 << 16)
def _short_key(line: str) -> str | None:
    words = line.split()
    if len(words) > MAX_KEY_WORDS:
        return None
    return " ".join(tok for raw in words for tok in cached_tokens(raw))


def phrase_keys(phrases: Iterable[str]) -> frozenset[str]:
    """Phrases in the normalised form ``short_key`` gives, for set lookups."""
    return frozenset(matching_key(p) for p in phrases)


def _phrases(text: str) -> tuple[str, ...]:
    """A vocabulary written as "a | b | c" over several lines."""
    return tuple(p.strip() for p in text.replace("\n", "|").split("|") if p.strip())


def is_markup_debris(line: str) -> bool:
    """Converter leftovers with no readable word: pipes, rules, images, empty links, tags."""
    s = line.strip()
    if not s or s[0].isalnum():  # markup spans start with ! [ < &, so that word survives
        return False
    if _WORD_CHAR.search(s) is None:
        return True
    has_markup = "[" in s or "<" in s or "&" in s
    return has_markup and _WORD_CHAR.search(_INVISIBLE_MARKUP.sub("", s)) is None


def is_listlike(line: str) -> bool:
    """A headline or link text: no closing sentence punctuation and not paragraph-long.

    Headlines may end in ? or !, a date stamp or a quote; body text ends in . : ; , or an
    ellipsis, which is what stops a related list at the first paragraph. A question opened
    by a dash is a turn of an interview, not a headline.
    """
    s = line.strip()
    if not s or len(s) > 8 * MAX_ITEM_WORDS:
        return False
    end = s.rstrip(_CLOSERS)
    if not end or end[-1] in _SENTENCE_END or s.count(" ") >= MAX_ITEM_WORDS:
        return False
    return not (end[-1] == "?" and s[0] in _DASHES)  # "- Thưa ông, …?" is an interview turn


class _PerLineRule:
    """Base for rules that judge each line on its own.

    ``max_chars`` skips longer lines before any per-line call: the cleaner runs on every
    document of large corpora, and most lines are paragraphs no per-line rule could match.
    """

    name = ""
    max_chars = 1 << 30

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        limit, drops, name = self.max_chars, self.drops, self.name
        for i, s in enumerate(lines):
            if s and len(s) <= limit and dropped[i] is None and drops(s):
                dropped[i] = name

    def drops(self, s: str) -> bool:
        """Whether the (stripped, non-empty) line ``s`` goes."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Per-line rules
# ---------------------------------------------------------------------------------------------


class MarkupDebrisRule(_PerLineRule):
    """Lines with no word once markdown images, empty links, HTML tags and pipes are gone.

    HTML-to-text converters leave ``![]() |``, ``|---|``, ``* * *``, ``-->``; no text is lost.
    """

    name = "markup_debris"

    def drops(self, s: str) -> bool:
        return is_markup_debris(s)


_CODE_START = frozenset("{}$_abcdefghijklmnopqrstuvwxyz")
_CODE_LINE = re.compile(
    r"^(?:[{}]"
    r"|(?:var|let|const|function|return|break|continue|default|else|try|case\s[^:]{1,40}:)\b"
    r"|(?:if|for|while|switch|catch)\s*\("
    r"|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\(|\s*[+\-*/]?=[^=])"
    r"|[A-Za-z_$][\w$]*\s*[+\-*/]?=\s*[^=\s].*;$)"
)


class ScriptDebrisRule(_PerLineRule):
    """Leaked JavaScript: a line that opens like code (keyword, brace, ``a.b(``, ``x = 1;``).

    Keywords are matched in lower case only, so capitalised English sentences never match, and
    identifiers must start with an ASCII letter, so "1.400 (2 tuần)" is not a call.
    """

    name = "script_debris"
    max_chars = 400

    def drops(self, s: str) -> bool:
        return s[0] in _CODE_START and _CODE_LINE.match(s) is not None


_PHOTO_LABEL = (
    r"(?:Ảnh|ẢNH|Hình|HÌNH|Photo|PHOTO|Photos|Photograph|Image|IMAGE|Picture|Credit|Credits"
    r"|Video|VIDEO|Clip|CLIP|Đồ họa|Đồ hoạ|ĐỒ HỌA|Infographic|INFOGRAPHIC|Graphic|Trong ảnh)"
    r"(?:\s+(?:minh\s+h[ọo]ạ|tư\s+liệu|chụp\s+màn\s+hình|credits?|source|\d{1,2}))?"
)
_SOURCE_LABEL = r"(?:Nguồn ảnh|Nguồn video|Nguồn|NGUỒN|Sources?|SOURCE)"
# The label in front of a line's last colon: "… Blinken. Ảnh", "- Ảnh", "(nguồn". Lower-case
# labels count only inside brackets ("phần mềm quản lý ảnh: Photoshop" is no credit).
_LABEL_BEFORE_COLON = re.compile(
    rf"(?:^|[^\w])(?:(?P<photo>{_PHOTO_LABEL}|\((?:ảnh|hình|photo))|(?P<source>{_SOURCE_LABEL}"
    r"|\(nguồn))\s*$"
)
_LABEL_LEAD = re.compile(rf"^\(?(?:(?P<photo>{_PHOTO_LABEL})|(?P<source>{_SOURCE_LABEL}))\s*:")
# "(Photo by Jane Doe/Getty Images)", "(AP Photo/Evan Vucci)": credits without a colon.
_PHOTO_BY = re.compile(
    r"(?:\(?\b(?:Photo|Photograph|Image)\s+by\s+|\([\w.&' -]{0,20}\bPhoto\s*/)[^()]{1,60}\)?\.?$"
)


class CaptionRule(_PerLineRule):
    """Bare photo and source credits: a label (Ảnh, Photo, Nguồn, Source …) and a name.

    Goes: "Ảnh: Reuters", "(Nguồn: Tổng cục Thống kê)", "Ảnh minh họa", "(AP Photo/Evan
    Vucci)", "Ảnh minh họa. Nguồn: Internet". Stays: a caption that describes the story's
    photo, even with its credit ("Người dân xếp hàng mua vàng. Ảnh: H.Dịu"): it is article
    text, shared by the outlets that reprint the story with its photo. A label followed by a
    description ("Ảnh: Thủ tướng phát biểu tại hội nghị sáng 12/3") stays for the same reason.
    """

    name = "caption"
    max_credit_words = 5  # a credit closing a line: "Ảnh: Bệnh viện cung cấp"
    max_lead_credit_words = 8  # "Ảnh: <name>" alone; more words describe the photo
    max_source_words = 15  # "Nguồn: <a report, a statistics office>": a table's or chart's source
    max_credit_chars = 60
    max_chars = 8 * max_source_words
    max_label_chars = 40  # "(Ảnh minh họa)": a label alone on its line
    label_only = phrase_keys(
        _phrases("""Ảnh minh họa | Hình minh họa | Ảnh tư liệu | File photo | Photo illustration
                    Illustration photo | Stock photo""")
    )

    def drops(self, s: str) -> bool:
        if s[0] == "|" or s[-1] == "|":
            s = s.strip("| ")
        if ":" not in s:
            if len(s) <= self.max_label_chars and short_key(s) in self.label_only:
                return True
            if "Photo" not in s:
                return False
            m = _PHOTO_BY.search(s, max(0, len(s) - 90))
            return m is not None and not s[: m.start()].strip(_BULLET + " (")
        words = s.count(" ") + 1
        lead = _LABEL_LEAD.match(s)
        if lead is not None:
            rest = s[lead.end() :].strip(" .)]")
            if lead["source"]:
                return words <= self.max_source_words
            return rest.count(" ") < self.max_lead_credit_words and "." not in rest.rstrip(".")
        colon = s.rfind(":")
        credit = s[colon + 1 :].strip(" .|)]")
        if not credit or len(credit) > self.max_credit_chars or "(" in credit:
            return False
        if credit.count(" ") >= self.max_credit_words:
            return False
        label = _LABEL_BEFORE_COLON.search(s, max(0, colon - 40), colon)
        if label is None:
            return False
        # What comes before the credit: a description of the photo (article text, kept), or
        # only another label or credit ("Ảnh minh họa. Nguồn: Internet").
        before = s[: label.start()].strip(_BULLET + " (.,;")
        return bool(before) and before != s and self.drops(before)


_TAG_LINE = re.compile(
    r"^[\[【(]\s*(?:videos?|clip|infographics?|inforgraphics?|ảnh|hình ảnh|chùm ảnh|photos?"
    r"|phóng sự ảnh|photo ?story|gallery|audio|podcast|e-?magazine|longform|megastory"
    r"|interactive|đồ h[ọo]ạ|motion ?graphics?|multimedia|live|trực tiếp|tin ảnh|tin video"
    r"|quảng cáo|sponsored|pr)\s*[\]】)]\s*[-–—:|]?\s*",
    re.IGNORECASE,
)


class TagLineRule(_PerLineRule):
    """A media tag in brackets plus a headline ("[Video] …", "[Infographic] …"): a teaser link.

    Only media/promotion tags count, and the rest must be a headline, not a sentence: a body
    line may open with "(Ảnh)" mid-story but then reads as a sentence.
    """

    name = "tag_line"
    max_chars = 8 * MAX_ITEM_WORDS

    def drops(self, s: str) -> bool:
        m = _TAG_LINE.match(s) if s[0] in "[【(" else None
        if m is None:
            return False
        rest = s[m.end() :]
        return not rest or is_listlike(rest)


_NUMBER_TOKEN = re.compile(r"^\d+[kmb]?$")


class ShareCounterRule:
    """Share/like/comment widgets: short lines made only of widget words and counts.

    A widget word with a count ("Thích 0", "12 bình luận"), several widget words ("Like Share
    Tweet") or an unambiguous one ("Copy link") goes. A lone ambiguous word ("Chia sẻ" is also
    a sub-heading, "Email" a form label) goes only inside a run of widget lines: a share bar
    printed one button a line ("Chia sẻ", "Facebook", "Zalo").
    """

    name = "share_counter"
    max_chars = 48
    phrases = phrase_keys(
        _phrases("""
            like | likes | share | shares | tweet | retweet | comment | comments | view | views
            reply | save | print | email | copy link | follow | follow us | follow us on
            bookmark | share on | share via | chia sẻ qua | chia sẻ lên
            thích | lượt thích | chia sẻ | lượt chia sẻ | bình luận | lượt bình luận | lượt xem
            lượt đọc | in bài | in bài viết | gửi bài | gửi bài viết | gửi email | lưu bài
            lưu bài viết | lưu tin | theo dõi | sao chép liên kết | sao chép link | báo lỗi
            gửi góp ý | facebook | twitter | zalo | linkedin | pinterest | whatsapp | telegram
            messenger | reddit
        """)
    )
    solo = phrase_keys(
        _phrases("""tweet | in bài | in bài viết | gửi bài | gửi bài viết | lưu bài | lưu tin
                    lưu bài viết | sao chép liên kết | sao chép link | copy link | báo lỗi""")
    )

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        limit = self.max_chars
        kinds = {
            i: kind
            for i, s in enumerate(lines)
            if s and len(s) <= limit and dropped[i] is None and (kind := self.widget(s))
        }
        if not kinds:
            return
        for i, kind in kinds.items():
            if kind == "sure" or self._in_run(lines, kinds, i):
                dropped[i] = self.name

    def widget(self, s: str) -> str | None:
        """Classify a line: "sure" widget, "maybe" (a lone ambiguous widget word) or None."""
        key = short_key(s)
        if not key:
            return None
        tokens = key.split()
        found: list[str] = []
        counts = 0
        i = 0
        while i < len(tokens):
            if _NUMBER_TOKEN.match(tokens[i]):
                counts += 1
                i += 1
                continue
            for size in (3, 2, 1):
                phrase = " ".join(tokens[i : i + size])
                if phrase in self.phrases:
                    found.append(phrase)
                    i += size
                    break
            else:
                return None
        if not found:
            return None
        return "sure" if counts or len(found) > 1 or found[0] in self.solo else "maybe"

    @staticmethod
    def _in_run(lines: Sequence[str], kinds: dict[int, str], i: int) -> bool:
        """Whether the nearest non-blank line before or after ``i`` is a widget line too."""
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and not lines[j]:
                j += step
            if j in kinds:
                return True
        return False


_CRUMB_SEP = re.compile(r"\s*(?:>>?|»|›|→|/|\|)\s*")
_ARROW = re.compile(r"[>»›→]")


class BreadcrumbRule(_PerLineRule):
    """Navigation trails: "Trang chủ > Thế giới", "Home » News » Asia".

    Each segment is a short capitalised name with no digits or sentence end; a trail either
    starts at a home link or has at least three segments joined by arrows (slashes and pipes
    are too common in body text to count alone).
    """

    name = "breadcrumb"
    home = phrase_keys(["Trang chủ", "Trang nhất", "Trang chính", "Home", "Homepage"])
    max_chars = 160

    def drops(self, s: str) -> bool:
        if not s[0].isupper() or not (
            ">" in s or "»" in s or "›" in s or "→" in s or " / " in s or " | " in s
        ):
            return False
        segments = [seg for seg in _CRUMB_SEP.split(s) if seg]
        if len(segments) < 2 or not all(self._segment(seg) for seg in segments):
            return False
        if short_key(segments[0]) in self.home:
            return True
        return len(segments) >= 3 and _ARROW.search(s) is not None

    @staticmethod
    def _segment(seg: str) -> bool:
        return (
            seg[0].isupper() and seg.count(" ") < 5 and not _DIGIT.search(seg) and is_listlike(seg)
        )


_WEEKDAY = (
    r"thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cn|t[2-7]|monday|tuesday"
    r"|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thurs|fri|sat|sun"
)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
)
_DATE_WITH_YEAR = (
    r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}"
    r"|\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2}(?::\d{2})?(?:z|[+-]\d{2}:?\d{2})?)?"
    rf"|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|(?:ngày\s+)?\d{1,2}\s+tháng\s+\d{1,2}\s*,?\s*năm\s+\d{4}"
)
_TIME = r"\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s*(?:am|pm|sa|ch))?"
_DATE_FILLER = (
    r"ngày|lúc|cập\s+nhật|đăng|xuất\s+bản|published|updated|posted|last\s+updated|on|at"
    r"|gmt|utc|ict|[+-]\d{1,2}(?::?\d{2})?|sáng|chiều|tối|trưa|giờ|[\s,|()\[\]:\-–—/]"
)
_DATE_ONLY = re.compile(rf"(?:{_DATE_WITH_YEAR}|{_TIME}|{_WEEKDAY}|{_DATE_FILLER})+", re.IGNORECASE)
_HAS_YEAR = re.compile(_DATE_WITH_YEAR, re.IGNORECASE)
_RELATIVE_TIME = re.compile(
    r"(?:cập\s+nhật|updated)?\s*:?\s*\d+\s+(?:giây|phút|giờ|ngày|tuần|tháng|năm)\s+trước"
    r"|(?:cập\s+nhật|updated)?\s*:?\s*\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?"
    r"|weeks?|months?|years?)\s+ago",
    re.IGNORECASE,
)


_STAMP_ENDINGS = (")", "trước", "ago", "AM", "PM", "am", "pm", "SA", "CH", "Z")
_STAMP_CUE = re.compile(
    r"cập\s+nhật|đăng|published|updated|posted|gmt|utc|trước|\bago\b", re.IGNORECASE
)
_CLOCK = re.compile(rf"\d[:h]\d\d|{_WEEKDAY}", re.IGNORECASE)


class DatelineRule:
    """Publication stamps: a line of only a full date (with year), times and weekday words.

    A year is required, so score lines ("2-1") and bare numbers stay. Date-only lines are also
    cells of timetables, diary headings and the date of a quoted letter; a stamp either says
    what it is ("Cập nhật", "GMT+7", "Published") or comes alone, next to the title or at the
    end, with a time or weekday ("Thứ Hai, 10/3/2024 14:30").
    """

    name = "dateline"
    min_chars = 8  # "1/1/2024"; shorter lines (table cells, scores) are never a full date
    max_chars = 80
    head_lines = 4  # title, then up to three lines of byline/stamp
    tail_lines = 2

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        lo, hi = self.min_chars, self.max_chars
        dates = [
            i
            for i, s in enumerate(lines)
            if lo <= len(s) <= hi and dropped[i] is None and self.is_date(s)
        ]
        if not dates:
            return
        edges: set[int] = set()
        if len(dates) == 1:
            filled = [i for i, s in enumerate(lines) if s]
            edges.update(filled[: self.head_lines], filled[-self.tail_lines :])
        for i in dates:
            if _STAMP_CUE.search(lines[i]) or (i in edges and _CLOCK.search(lines[i])):
                dropped[i] = self.name

    @staticmethod
    def is_date(s: str) -> bool:
        """A line of only date, time and weekday words, with a full date (or "2 giờ trước")."""
        if not (s[-1].isdigit() or s.endswith(_STAMP_ENDINGS)):
            return False
        if _RELATIVE_TIME.fullmatch(s):
            return True
        return _DATE_ONLY.fullmatch(s) is not None and _HAS_YEAR.search(s) is not None


# ---------------------------------------------------------------------------------------------
# Rules that look at neighbouring lines
# ---------------------------------------------------------------------------------------------

_FOOTER_MARK = re.compile(
    r"©|\(c\)\s*\d{4}|copyright\s*(?:©|\(c\)|\d{4})|all rights reserved|bảo lưu mọi quyền",
    re.IGNORECASE,
)
_FOOTER_LEAD = re.compile(
    r"^(?:bản\s+quyền\s+(?:thuộc|©|\(c\)|\d{4})|giấy\s+phép\s+(?:số|hoạt\s+động|thiết\s+lập"
    r"|xuất\s+bản|mạng\s+xã\s+hội|ICP)|(?:phó\s+)?tổng\s+biên\s+tập\s*:|chịu\s+trách\s+nhiệm"
    r"(?:\s+(?:xuất\s+bản|nội\s+dung|quản\s+lý\s+nội\s+dung))?\s*:|cơ\s+quan\s+chủ\s+quản"
    r"|ghi\s+rõ\s+nguồn|(?:nghiêm\s+)?cấm\s+sao\s+chép|không\s+được\s+sao\s+chép"
    r"|editor[- ]in[- ]chief\s*:|terms\s+of\s+(?:use|service)|privacy\s+policy"
    r"|chính\s+sách\s+bảo\s+mật|điều\s+khoản\s+sử\s+dụng)",
    re.IGNORECASE,
)


def _has_footer_mark(s: str) -> bool:
    # Substring tests first: a regex scan of a Vietnamese line costs far more than these.
    hinted = (
        "©" in s
        or "(c)" in s
        or "(C)" in s
        or "opyright" in s
        or "OPYRIGHT" in s
        or "eserved" in s
        or "ESERVED" in s
        or "ảo lưu" in s
        or "ẢO LƯU" in s
    )
    return hinted and _FOOTER_MARK.search(s) is not None


_CONTACT_LEAD = re.compile(
    r"^(?:địa\s+chỉ|điện\s+thoại|đt|tel|phone|fax|email|e-mail|hotline|đường\s+dây\s+nóng"
    r"|liên\s+hệ|website|tòa\s+soạn|toà\s+soạn|trụ\s+sở|address|contact)\b",
    re.IGNORECASE,
)


class FooterRule:
    """Copyright and licence footers, and the contact block that trails them.

    A footer ends the page: it counts only in the tail, where no paragraph follows. There a
    short line with "©", "Copyright 2024", "All rights reserved", or one opening with
    "Bản quyền thuộc về", "Giấy phép số", "Tổng biên tập:" … starts the footer, and it and
    every later line go. Mid-document, such lines are quoted text (a boot screen, a licence
    notice a story is about), so they stay.
    """

    name = "footer"
    max_words = 40

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        n = len(lines)
        for i in range(self._tail_start(lines, dropped), n):
            s = lines[i]
            if (
                s
                and dropped[i] is None
                and s.count(" ") < self.max_words
                and (_FOOTER_LEAD.match(s) or _has_footer_mark(s))
            ):
                for j in range(i, n):
                    if lines[j] and dropped[j] is None:
                        dropped[j] = self.name
                return

    @staticmethod
    def _tail_start(lines: Sequence[str], dropped: list[str | None]) -> int:
        """First index from which every open line is a footer-shaped line (not a paragraph)."""
        start = len(lines)
        for i in range(len(lines) - 1, -1, -1):
            if not lines[i] or dropped[i] is not None:
                continue
            s = lines[i]
            if not (
                is_listlike(s)
                or _CONTACT_LEAD.match(s)
                or _FOOTER_LEAD.match(s)
                or _has_footer_mark(s)
            ):
                break
            start = i
        return start


STRONG_HEADERS: tuple[str, ...] = _phrases("""
    Tin liên quan | Tin bài liên quan | Bài liên quan | Bài viết liên quan | Tin tức liên quan
    Thông tin liên quan | Các tin liên quan | Các bài liên quan | Các tin bài liên quan
    Tin cùng chuyên mục | Bài cùng chuyên mục | Cùng chuyên mục | Tin cùng chủ đề
    Bài cùng chủ đề | Cùng chủ đề | Tin khác | Các tin khác | Tin bài khác | Các tin bài khác
    Bài khác | Các bài khác | Bài viết khác | Các bài viết khác | Những tin khác | Tin tức khác
    Đọc nhiều | Đọc nhiều nhất | Xem nhiều | Xem nhiều nhất | Tin đọc nhiều | Tin xem nhiều
    Bài đọc nhiều | Tin mới nhất | Tin mới | Tin mới hơn | Tin cũ hơn | Tin đã đưa
    Các tin đã đưa | Tin nổi bật | Tin nóng | Tin hot | Tin tiêu điểm | Đọc thêm | Xem thêm
    Có thể bạn quan tâm | Bạn có thể quan tâm | Có thể bạn muốn xem | Theo dòng sự kiện
    Dòng sự kiện | Từ khóa | Tags | Tag | Ý kiến của bạn | Ý kiến bạn đọc | Gửi ý kiến
    Gửi bình luận | Viết bình luận | Bình luận của bạn | Tin ảnh | Tin video | Video nổi bật
    Tin tài trợ
    Related | Related articles | Related stories | Related news | Related posts
    Related content | Related coverage | Related links | Related topics | Related reading
    Related videos | Most read | Most popular | Most viewed | Most shared | Most commented
    Read more | See also | Also read | Read also | Read next | Up next | More stories
    More news | Recommended | Recommended for you | Recommended stories | You may also like
    You might also like | You may be interested in | Don't miss | Trending | Trending now
    Top stories | Latest news | Latest stories | Editor's picks | Editors' picks
    Further reading | More on this story | More on this topic | Topics | Leave a comment
    Post a comment | Share this article | Sponsored | Sponsored content | In other news
""")
# Words that are also ordinary sub-headings ("Sự kiện", "Bình luận", "Video"): a header only
# over a list or at the end.
WEAK_HEADERS: tuple[str, ...] = _phrases("""
    Multimedia | Video | Videos | Ảnh | Photo | Photos | Tiêu điểm | Sự kiện | Chủ đề
    Bình luận | Ý kiến | Phản hồi | Comments | Latest | Popular | Podcast | Infographic
    Emagazine | Longform
""")
# Stand-alone labels: "more" links, navigation and ad slots; they do not open a list.
LINK_LABELS: tuple[str, ...] = _phrases("""
    Xem tiếp | Đọc tiếp | Xem toàn bộ | Xem chi tiết | Về đầu trang | Lên đầu trang
    Trở về đầu trang | Quay lại | Trở về | Trang sau | Trang trước | Xem bình luận
    Continue reading | Keep reading | Back to top | Next page | Previous page | Load more
    Show more | Show comments | Quảng cáo | Advertisement | Story continues below advertisement
    Continue reading the main story | Subscribe | Sign up for our newsletter
    Đăng ký nhận bản tin | Đăng ký nhận tin
""")


class BlockHeaderRule:
    """A block header ("Tin liên quan", "Đọc nhiều", "Most read" …) and the list after it.

    After a header, following lines go while they read as headlines or links (no sentence
    end, not paragraph-long); the first line that reads as body text ends the list. Blank and
    already-dropped lines inside the list are stepped over, and a header at the very end with
    nothing after it goes too. A weak header (a word that is also a sub-heading) goes only over
    a list of two or more lines, or at the end. A link label ("Xem tiếp", "Back to top") goes
    alone. "Xem thêm: <headline>" on one line (an inline link, or tags after "Từ khóa:") goes
    as ``inline_header``. Header lines hold words only: "% phản hồi" heads a table column.
    """

    name = "block_header"
    list_name = "related_list"
    inline_name = "inline_header"
    label_name = "link_label"
    min_weak_items = 2  # a weak header over one line is a heading and its sub-heading

    def __init__(
        self,
        strong: Iterable[str] = STRONG_HEADERS,
        weak: Iterable[str] = WEAK_HEADERS,
        labels: Iterable[str] = LINK_LABELS,
    ) -> None:
        strong, weak, labels = tuple(strong), tuple(weak), tuple(labels)
        self.kinds = {key: "label" for key in phrase_keys(labels)}
        self.kinds.update((key, "weak") for key in phrase_keys(weak))
        self.kinds.update((key, "strong") for key in phrase_keys(strong))
        self.strong = phrase_keys(strong)
        # Longer lines cannot be a header (room left for decoration such as ">> … <<").
        self.max_chars = max(map(len, strong + weak + labels)) + 8

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        i, n, limit = 0, len(lines), self.max_chars
        while i < n:
            s = lines[i]
            if s and dropped[i] is None:
                kind = self._kind(s) if len(s) <= limit else None
                if kind == "label":
                    dropped[i] = self.label_name
                elif kind is not None:
                    i = self._take_block(lines, dropped, i, strong=kind == "strong")
                    continue
                elif ":" in s and self._inline(s):
                    dropped[i] = self.inline_name
            i += 1

    def _kind(self, line: str) -> str | None:
        """The kind of header line ("strong", "weak" or "label"), None for other lines."""
        if "%" in line or _DIGIT.search(line):
            return None
        return self.kinds.get(short_key(line) or "")

    def _inline(self, line: str) -> bool:
        colon = line.find(":", 0, self.max_chars)
        return (
            colon > 0 and short_key(line[:colon]) in self.strong and is_listlike(line[colon + 1 :])
        )

    def _take_block(
        self, lines: Sequence[str], dropped: list[str | None], i: int, strong: bool
    ) -> int:
        """Drop the header at ``i`` and its list; return the index after the block."""
        items: list[int] = []
        j = i + 1
        while j < len(lines):
            if lines[j] and dropped[j] is None:
                if not is_listlike(lines[j]):
                    break
                items.append(j)
            j += 1
        if not (strong or len(items) >= self.min_weak_items or j == len(lines)):
            return i + 1
        dropped[i] = self.name
        for k in items:
            kind = self._kind(lines[k]) if len(lines[k]) <= self.max_chars else None
            dropped[k] = self.list_name if kind is None else self.name
        return j


_DATE_STAMP = re.compile(r"\(\s*\d{1,2}/\d{1,2}(?:/\d{2,4})?(?:\s+\d{1,2}:\d{2})?\s*\)\s*$")


class DatedListRule:
    """Headerless related lists: two or more consecutive headlines ending in a date stamp.

    "Tôm VN tìm cách chống đỡ thuế bán phá giá(01/12/2004)" is how link lists print their
    items; a run of them (blank and dropped lines in between allowed) is a list, a single one
    might be a body heading.
    """

    name = "related_list"
    min_run = 2

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        run: list[int] = []
        for i, line in enumerate(lines):
            if not line or dropped[i] is not None:
                continue
            stamp = _DATE_STAMP.search(line, max(0, len(line) - 30)) if line.endswith(")") else None
            if stamp is not None and is_listlike(line[: stamp.start()]):
                run.append(i)
            elif run:
                self._flush(run, dropped)
                run = []
        self._flush(run, dropped)

    def _flush(self, run: list[int], dropped: list[str | None]) -> None:
        if len(run) >= self.min_run:
            for i in run:
                dropped[i] = self.name


# ---------------------------------------------------------------------------------------------
# The cleaner
# ---------------------------------------------------------------------------------------------


def default_rules() -> list[LineRule]:
    """The built-in single-document rules, in the order they run.

    Rules that judge a line alone come first (and run as one pass), so that the list rules can
    step over what they dropped ("[Video] …" lines inside a "Multimedia" block).
    """
    return [
        MarkupDebrisRule(),
        ScriptDebrisRule(),
        CaptionRule(),
        TagLineRule(),
        BreadcrumbRule(),
        ShareCounterRule(),
        DatelineRule(),
        FooterRule(),
        BlockHeaderRule(),
        DatedListRule(),
    ]


class Cleaner:
    """Runs line rules over a document and keeps the title and the body.

    The title (first non-empty line that is not markup debris) is restored after every rule:
    a headline such as "[Video] …" or "Xem thêm" as a title is still the title.
    """

    def __init__(self, rules: Sequence[LineRule] | None = None) -> None:
        self.rules: tuple[LineRule, ...] = tuple(default_rules() if rules is None else rules)
        self._steps = _fuse(self.rules)

    def clean(self, text: str, extra: Sequence[LineRule] = ()) -> CleanResult:
        """Clean ``text``; ``extra`` rules (e.g. the learned rule for this document's source)
        run after the built-in ones. A rule with ``may_drop_title = True`` is trusted to judge
        the title itself (it knows when a first line is site chrome)."""
        raw = text.split("\n")
        nfc = text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
        lines = [line.strip() for line in (raw if nfc is text else nfc.split("\n"))]
        dropped: list[str | None] = [None] * len(lines)
        title = _title_index(lines)
        for step in (*self._steps, *extra):
            step.mark(lines, dropped)
            if title is not None and not getattr(step, "may_drop_title", False):
                dropped[title] = None
        return _result(raw, dropped)


class _PerLinePass:
    """Consecutive per-line rules run in one pass over the lines, each line tried in rule order.

    The result is the same as running them one after another (each looks at its own line
    only); one loop instead of several is what keeps the cleaner at tens of thousands of
    documents per second.
    """

    def __init__(self, rules: Sequence[_PerLineRule]) -> None:
        self.name = "+".join(rule.name for rule in rules)
        self.checks = tuple((rule.max_chars, rule.drops, rule.name) for rule in rules)

    def mark(self, lines: Sequence[str], dropped: list[str | None]) -> None:
        checks = self.checks
        for i, s in enumerate(lines):
            if s and dropped[i] is None:
                n = len(s)
                for limit, drops, name in checks:
                    if n <= limit and drops(s):
                        dropped[i] = name
                        break


def _fuse(rules: Sequence[LineRule]) -> list[LineRule]:
    """The rules with each run of consecutive per-line rules merged into one pass."""
    steps: list[LineRule] = []
    run: list[_PerLineRule] = []
    for rule in (*rules, None):
        if isinstance(rule, _PerLineRule):
            run.append(rule)
            continue
        if run:
            steps.append(_PerLinePass(run) if len(run) > 1 else run[0])
            run = []
        if rule is not None:
            steps.append(rule)
    return steps


def _title_index(lines: Sequence[str]) -> int | None:
    for i, line in enumerate(lines):
        if line.strip() and not is_markup_debris(line):
            return i
    return None


def _result(raw: Sequence[str], dropped: Sequence[str | None]) -> CleanResult:
    kept: list[str] = []
    removed: list[Removal] = []
    gap = False
    for i, (line, rule) in enumerate(zip(raw, dropped, strict=True)):
        if rule is not None:
            removed.append(Removal(i, line, rule))
        elif not line.strip():
            gap = bool(kept)
        else:
            if gap:
                kept.append("")
                gap = False
            kept.append(line.rstrip())  # trailing spaces and the \r of CRLF text carry nothing
    return CleanResult("\n".join(kept).strip(), tuple(removed))


_DEFAULT: Cleaner | None = None


def clean(text: str) -> CleanResult:
    """Clean ``text`` with the default rules (one shared ``Cleaner``)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Cleaner()
    return _DEFAULT.clean(text)
