"""Generated site chrome around VNTC articles: one invented site per VNTC source.

Every string here was written for this benchmark: generic Vietnamese news-site chrome (a menu,
a house byline, a date stamp, a cookie notice, footer lines and a headerless "most read" list of
five titles of other articles of the same source), not copied from any real site. Each source
gets its own site with its own wording and layout, so what one site's chrome teaches says
nothing about another's. Every generated line carries a ground-truth label: ``chrome:<kind>``
or ``article:<index>`` (the 0-based line index in the VNTC text it came from), so removals can
be scored line by line.

A real "most read" box changes over time, so a title shows up on the pages published while it
was popular: each page gets a publication "day", and its list is a window of five titles of a
rotating pool of 30 titles of that source (each title on about a sixth of the source's pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

WEEKDAYS = ("Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy")
POOL_SIZE = 30  # titles in a source's rotating "most read" pool
LIST_SIZE = 5  # titles per page
DAYS = 60  # publication days the pages are spread over


@dataclass(frozen=True, slots=True)
class Site:
    """One invented site: fixed chrome lines, house formats and a layout (order of blocks)."""

    name: str
    menu: str
    byline: str  # format with {name} (and {date}/{time} when the stamp is part of it)
    date: str  # format with {weekday} {d} {m} {y} {time}; "" when the byline holds the date
    cookie: str
    footer: tuple[str, ...]
    layout: tuple[str, ...]  # blocks: site, menu, crumb, title, byline, date, body, most_read,
    # cookie, footer
    authors: tuple[str, ...]
    crumb: str = ""  # format with {section}

    def byline_line(self, author: str, stamp: dict[str, str]) -> str:
        return self.byline.format(name=author, **stamp)

    def date_line(self, stamp: dict[str, str]) -> str:
        return self.date.format(**stamp)


SITES: dict[str, Site] = {
    "VNE": Site(
        name="Tin Nhanh Phố Cảng",
        menu="Trang nhất | Thời sự | Thế giới | Kinh doanh | Pháp luật | Văn hóa | Thể thao | "
        "Số hóa | Sức khỏe | Bạn đọc viết",
        byline="Bài: {name} | Tin Nhanh Phố Cảng",
        date="{weekday}, {d}/{m}/{y}, {time} GMT+7",
        cookie="Trang web sử dụng cookie để ghi nhớ lựa chọn của bạn; tiếp tục đọc đồng nghĩa "
        "với việc bạn chấp nhận điều này.",
        footer=(
            "© 2006 Tin Nhanh Phố Cảng. Giữ toàn bộ bản quyền nội dung.",
            "Tòa soạn: 45 đường Bến Nghé, phường 3, thành phố Phố Cảng",
            "Đường dây nóng: 0900 123 456 - Thư điện tử: toasoan@phocang.example",
        ),
        layout=("site", "menu", "title", "byline", "date", "body", "most_read", "cookie", "footer"),
        authors=(
            "Minh Châu",
            "Hoàng Lâm",
            "Thu Trang",
            "Quốc Việt",
            "Ngọc Hân",
            "Đức Tài",
            "Bảo Ngọc",
            "Thanh Tùng",
            "Mai Phương",
            "Trọng Nghĩa",
            "Hải Yến",
            "Văn Toàn",
            "Khánh Linh",
            "Phúc Hưng",
            "Diệu Thúy",
            "Anh Khoa",
            "Lệ Quyên",
            "Tuấn Kiệt",
            "Hồng Nhung",
            "Gia Bảo",
        ),
    ),
    "NLD": Site(
        name="Báo Sông Lam điện tử",
        menu="Thời sự • Quốc tế • Lao động • Công đoàn • Kinh tế • Pháp luật • Giáo dục • "
        "Văn nghệ • Thể thao • Sức khỏe",
        byline="{name} (Báo Sông Lam)",
        date="Cập nhật lúc {time} ngày {d}-{m}-{y}",
        cookie="Chúng tôi dùng tệp cookie để thống kê lượt truy cập và cải thiện nội dung, "
        "bạn có thể tắt cookie trong cài đặt trình duyệt.",
        footer=(
            "Báo Sông Lam điện tử - Cơ quan của Liên đoàn Lao động tỉnh Sông Lam",
            "Giấy phép số 214/GP-BTTTT cấp ngày 12/6/2004",
            "Ghi rõ nguồn Báo Sông Lam khi phát hành lại thông tin từ website này.",
        ),
        layout=("menu", "title", "date", "body", "byline", "cookie", "most_read", "footer"),
        authors=(
            "HOÀNG ANH",
            "LÊ PHONG",
            "NGỌC DIỆP",
            "THẾ DŨNG",
            "KIM OANH",
            "VĂN HẢI",
            "TRÚC LINH",
            "MINH KHANG",
            "THU HIỀN",
            "QUANG VINH",
            "BÍCH NGỌC",
            "XUÂN TRƯỜNG",
            "HÀ MY",
            "ĐÌNH PHONG",
            "THANH THẢO",
            "CÔNG MINH",
            "YẾN NHI",
            "TRUNG HIẾU",
            "PHƯƠNG THẢO",
            "KHẮC DUY",
        ),
    ),
    "TT": Site(
        name="Cao Nguyên Online",
        menu="Tin nóng - Xã hội - Thế giới - Kinh tế - Nhịp sống trẻ - Giải trí - Thể thao - "
        "Nhà đất - Du lịch - Rao vặt",
        byline="Theo {name} (Cao Nguyên Online)",
        date="",
        cookie="Cao Nguyên Online lưu một số thông tin trên máy của bạn (cookie) để trang "
        "hiển thị nhanh hơn trong những lần truy cập sau.",
        footer=(
            "Cao Nguyên Online - Thông tin nhanh, chính xác, đa chiều",
            "Liên hệ quảng cáo: 0912 000 111 (giờ hành chính)",
            "Văn phòng đại diện phía Bắc: 8 phố Hàng Chuối, Hà Nội",
        ),
        layout=("title", "byline", "body", "menu", "most_read", "footer", "cookie"),
        authors=(
            "Lam Giang",
            "Sơn Tùng",
            "Thảo Vy",
            "Hữu Phước",
            "Bích Trâm",
            "Nhật Minh",
            "Đoan Trang",
            "Vĩnh Khang",
            "Cẩm Tú",
            "Hoài Nam",
            "Như Quỳnh",
            "Tấn Phát",
            "Mỹ Duyên",
            "Chí Thanh",
            "Ánh Tuyết",
            "Đăng Khoa",
            "Hạnh Dung",
            "Gia Huy",
            "Kiều Oanh",
            "Thái Sơn",
        ),
    ),
    "TN": Site(
        name="Bản tin Đồng Bằng",
        menu="",
        byline="{name} | {d}.{m}.{y} - {time}",
        date="",
        cookie="Bằng việc tiếp tục sử dụng trang, bạn đồng ý để Bản tin Đồng Bằng lưu cookie "
        "phục vụ quảng cáo phù hợp.",
        footer=(
            "Bản tin Đồng Bằng - Tiếng nói của bà con miền sông nước",
            "Tổng biên tập: Lê Văn Khải",
            "Mọi hình thức sao chép phải được sự đồng ý bằng văn bản của tòa soạn.",
        ),
        layout=("crumb", "title", "byline", "body", "cookie", "most_read", "footer"),
        authors=(
            "Trần Lưu",
            "Ngọc Tuyền",
            "Phan Hậu",
            "Cao Thắng",
            "Mỹ Lệ",
            "Huỳnh Đức",
            "Thủy Tiên",
            "Bá Lộc",
            "Tố Nga",
            "Hữu Tâm",
            "Kim Chi",
            "Trí Dũng",
            "Sương Mai",
            "Minh Luân",
            "Ngân Hà",
            "Phú Quý",
            "Thanh Vân",
            "Lâm Vũ",
            "Diễm My",
            "Quang Tèo",
        ),
        crumb="Trang chủ » {section}",
    ),
}

SECTIONS = {
    "Chinh tri Xa hoi": "Xã hội",
    "Doi song": "Đời sống",
    "Khoa hoc": "Khoa học",
    "Kinh doanh": "Kinh tế",
    "Phap luat": "Pháp luật",
    "Suc khoe": "Sức khỏe",
    "The gioi": "Thế giới",
    "The thao": "Thể thao",
    "Van hoa": "Văn hóa",
    "Vi tinh": "Công nghệ",
}


@dataclass(slots=True)
class Page:
    """A generated page: its text and one label per line of ``text.split("\\n")``."""

    id: str
    source: str
    text: str
    labels: list[str]
    base_id: str  # the VNTC article the body comes from
    variant: str = "original"  # or the repost variant: full, trim_tail, trim_both


@dataclass(slots=True)
class Body:
    """An article's lines (title first) with their VNTC line indices."""

    lines: list[str]
    index: list[int]


@dataclass(slots=True)
class Wrapper:
    """Puts pages of one source inside that source's site chrome (seeded)."""

    pools: dict[str, list[str]]  # source -> the 30 titles of its "most read" pool
    rng: np.random.Generator
    counts: dict[str, int] = field(default_factory=dict)

    def wrap(
        self,
        page_id: str,
        source: str,
        topic: str,
        body: Body,
        base_id: str,
        variant: str = "original",
    ) -> Page:
        site = SITES[source]
        day = int(self.rng.integers(DAYS))
        stamp = self._stamp(day)
        author = site.authors[int(self.rng.integers(len(site.authors)))]
        title, rest = body.lines[0], body.lines[1:]
        lines: list[str] = []
        labels: list[str] = []

        def add(line: str, label: str) -> None:
            lines.append(line)
            labels.append(label)

        for block in site.layout:
            if block == "site":
                add(site.name, "chrome:site")
            elif block == "menu":
                add(site.menu, "chrome:menu")
            elif block == "crumb":
                add(site.crumb.format(section=SECTIONS.get(topic, "Tin tức")), "chrome:crumb")
            elif block == "title":
                add(title, f"article:{body.index[0]}")
            elif block == "byline":
                add(site.byline_line(author, stamp), "chrome:byline")
            elif block == "date":
                add(site.date_line(stamp), "chrome:date")
            elif block == "body":
                for line, idx in zip(rest, body.index[1:], strict=True):
                    add(line, f"article:{idx}" if line.strip() else "blank")
            elif block == "most_read":
                for item in self.most_read(source, day, title):
                    add(item, "chrome:most_read")
            elif block == "cookie":
                add(site.cookie, "chrome:cookie")
            elif block == "footer":
                for line in site.footer:
                    add(line, "chrome:footer")
        return Page(page_id, source, "\n".join(lines), labels, base_id, variant)

    def most_read(self, source: str, day: int, own_title: str) -> list[str]:
        """Five titles of the pool, a window that moves with the day; never the page's own."""
        pool = self.pools[source]
        start = (day * 2) % len(pool)
        items = [pool[(start + k) % len(pool)] for k in range(LIST_SIZE + 1)]
        return [t for t in items if t != own_title][:LIST_SIZE]

    @staticmethod
    def _stamp(day: int) -> dict[str, str]:
        # Day 0 is Wednesday 1/3/2006; each page also gets a time of day from its day number.
        d, m = 1 + day % 28, 3 + day // 28
        hour, minute = 6 + (day * 7) % 16, (day * 13) % 60
        return {
            "weekday": WEEKDAYS[(3 + day) % 7],
            "d": f"{d:02d}",
            "m": f"{m:02d}",
            "y": "2006",
            "time": f"{hour:02d}:{minute:02d}",
        }


def is_title_like(line: str) -> bool:
    """A VNTC first line usable as a "most read" item: a headline, not a merged paragraph."""
    s = line.strip()
    words = s.split()
    return 4 <= len(words) <= 16 and s[-1] not in ".:;,…" and not s.startswith(("-", "("))


def headline(first_line: str) -> str | None:
    """A "most read" item for an article: its title, or a headline-length teaser.

    VNTC's VNE and TT articles open with a title line; NLD's first line is the title run into
    the lede ("Tiêu đề (NLĐ)- Ngày 30-12, …"), TN's is the lede. Those give the part before
    "(NLĐ)" when it is headline-shaped, else the first ten words of the first sentence.
    """
    s = first_line.strip()
    if is_title_like(s):
        return s
    if "(NLĐ)" in s:
        prefix = s.split("(NLĐ)", 1)[0].strip(" -–")
        if is_title_like(prefix):
            return prefix
    words = s.split(". ", 1)[0].split()[:10]
    teaser = " ".join(words).rstrip(".,:;…!?\"'")
    return teaser if is_title_like(teaser) else None


def pick_pools(titles: Sequence[tuple[str, str]], rng: np.random.Generator) -> dict[str, list[str]]:
    """Per source, ``POOL_SIZE`` distinct headlines of that source's articles (first lines)."""
    by_source: dict[str, list[str]] = {}
    for source, first_line in titles:
        item = headline(first_line)
        if item is not None and item not in by_source.setdefault(source, []):
            by_source[source].append(item)
    pools = {}
    for source, candidates in sorted(by_source.items()):
        picked = rng.choice(len(candidates), size=min(POOL_SIZE, len(candidates)), replace=False)
        pools[source] = [candidates[i] for i in sorted(picked.tolist())]
    return pools


def split_body(text: str) -> Body:
    """An article's lines, title first, with their indices (blank lines kept, as blank)."""
    lines = text.split("\n")
    first = next((i for i, s in enumerate(lines) if s.strip()), 0)
    kept = lines[first:]
    while kept and not kept[-1].strip():
        kept.pop()
    return Body(kept, list(range(first, first + len(kept))))


def trim(body: Body, keep_from: float, keep_to: float) -> Body:
    """The title and the words of the body between the two fractions (lines cut mid-way)."""
    rest = list(zip(body.lines[1:], body.index[1:], strict=True))
    words = [(j, w) for j, (line, _) in enumerate(rest) for w in line.split()]
    lo, hi = int(len(words) * keep_from), max(int(len(words) * keep_to), 1)
    chosen = words[lo:hi]
    lines, index = [body.lines[0]], [body.index[0]]
    current = -1
    for j, w in chosen:
        if j != current:
            lines.append(w)
            index.append(rest[j][1])
            current = j
        else:
            lines[-1] += " " + w
    # A cut can leave a line of punctuation only (a dash that opened a quote): not article text.
    keep = [0] + [k for k in range(1, len(lines)) if any(c.isalnum() for c in lines[k])]
    return Body([lines[k] for k in keep], [index[k] for k in keep])
