"""Generated site chrome for synthetic reposts: menus, related-link blocks, captions, footers.

All strings here are written for this harness: generic, plausible Vietnamese news-site chrome
(the kinds of lines listed in RESEARCH.md, "Boilerplate in plain text"), not copied from any
site. Sites and people are invented; a site's fixed chrome is the same on every page it
"publishes", as on a real site.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

SITE_WORDS_A = ["Nhịp Sống", "Tin Tức", "Bản Tin", "Thời Báo", "Trang Tin", "Điểm Tin", "Góc Nhìn"]
SITE_WORDS_B = [
    "Phố Cảng",
    "Sông Lam",
    "Ven Đô",
    "Cửa Biển",
    "Ngã Ba",
    "Sao Mai",
    "Đồng Bằng",
    "Cao Nguyên",
    "Hướng Dương",
    "Phương Nam",
    "Bình Minh",
    "Chân Trời",
]
MENU_ITEMS = [
    "Thời sự",
    "Thế giới",
    "Kinh doanh",
    "Tài chính",
    "Bất động sản",
    "Pháp luật",
    "Giáo dục",
    "Sức khỏe",
    "Đời sống",
    "Văn hóa",
    "Giải trí",
    "Thể thao",
    "Công nghệ",
    "Xe",
    "Du lịch",
    "Bạn đọc",
    "Video",
    "Ảnh",
    "Infographic",
    "Góc nhìn",
    "Ý kiến",
    "Podcast",
    "Tiêu dùng",
]
MENU_SEPARATORS = [" | ", " - ", " • ", " / ", "  "]
TOPIC_LABEL = {
    "Chinh tri Xa hoi": "Thời sự",
    "The thao": "Thể thao",
    "The gioi": "Thế giới",
    "Van hoa": "Văn hóa",
    "Suc khoe": "Sức khỏe",
    "Kinh doanh": "Kinh doanh",
    "Phap luat": "Pháp luật",
    "Vi tinh": "Công nghệ",
    "Doi song": "Đời sống",
    "Khoa hoc": "Khoa học",
}
RELATED_HEADERS = [
    "Tin liên quan",
    "Tin bài liên quan",
    "Các tin bài khác",
    "Cùng chuyên mục",
    "Đọc nhiều",
    "Xem nhiều",
    "Tin mới nhất",
    "Đọc thêm",
    "Xem thêm",
    "Có thể bạn quan tâm",
    "Tin khác",
]
TAGS = ["[Video]", "[Infographic]", "[Ảnh]", "[Podcast]", "VIDEO:", "[Emagazine]"]
CAPTIONS = [
    "Quang cảnh buổi làm việc",
    "Lực lượng chức năng có mặt tại hiện trường",
    "Người dân theo dõi thông tin",
    "Toàn cảnh hội nghị",
    "Các đại biểu tham dự sự kiện",
    "Hình ảnh ghi lại tại hiện trường",
    "Một góc khu vực được nhắc tới trong bài",
    "Khách tham quan tại gian trưng bày",
    "Ảnh chụp màn hình",
    "Ảnh tư liệu",
]
SHARE_LINES = [
    "Chia sẻ: Facebook | Zalo | Twitter",
    "Bình luận (0)",
    "Gửi bình luận",
    "Lưu bài viết",
    "Theo dõi chúng tôi trên mạng xã hội",
    "Thích và chia sẻ bài viết",
    "Báo lỗi bài viết",
    "Đăng nhập | Đăng ký",
    "Về đầu trang",
    "In bài viết",
]
WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Ngọc", "Quốc", "Hữu", "Đức", "Thu", "Bảo"]
GIVEN = [
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Hà",
    "Hải",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
]
STREETS = [
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Quang Trung",
]
CITIES = ["Hà Nội", "TP Hồ Chí Minh", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Huế"]


def ascii_fold(text: str) -> str:
    """'Sông Lam' -> 'Song Lam', for invented domain names."""
    bare = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in bare if not unicodedata.combining(ch))


def pick(rng: np.random.Generator, items: list[str]) -> str:
    return items[int(rng.integers(len(items)))]


def person(rng: np.random.Generator, full: bool = True) -> str:
    """An invented name: 'Trần Minh Tâm', or 'Minh Tâm' as a byline."""
    given = f"{pick(rng, MIDDLE)} {pick(rng, GIVEN)}"
    return f"{pick(rng, SURNAMES)} {given}" if full else given


@dataclass(slots=True)
class Site:
    """A fictional outlet: its fixed menu and footer and its habits."""

    name: str
    menu: str
    footer: list[str]
    headers: list[str]
    markdown_captions: bool  # captions left as '![]() |' table debris by an HTML converter
    dated: bool


def make_sites(rng: np.random.Generator, n: int) -> list[Site]:
    """`n` distinct fictional sites, reproducible from `rng`."""
    sites = []
    names: set[str] = set()
    while len(sites) < n:
        name = f"{pick(rng, SITE_WORDS_A)} {pick(rng, SITE_WORDS_B)}"
        if name in names:
            continue
        names.add(name)
        k = int(rng.integers(6, 12))
        items = [MENU_ITEMS[i] for i in rng.choice(len(MENU_ITEMS), size=k, replace=False)]
        menu = pick(rng, MENU_SEPARATORS).join(["Trang chủ", *items])
        domain = ascii_fold(name).lower().replace(" ", "")
        year = int(rng.integers(2008, 2025))
        footer_pool = [
            f"Bản quyền thuộc về {name}.",
            f"© {year} {name}. Giữ toàn quyền.",
            f"Giấy phép số {int(rng.integers(10, 999))}/GP-BTTTT cấp ngày "
            f"{int(rng.integers(1, 29))}/{int(rng.integers(1, 13))}/{year}.",
            f"Tổng biên tập: {person(rng)}",
            f"Địa chỉ: Số {int(rng.integers(1, 300))} {pick(rng, STREETS)}, {pick(rng, CITIES)}",
            f"Điện thoại: 0{int(rng.integers(20, 300))} {int(rng.integers(1000, 9999))} "
            f"{int(rng.integers(1000, 9999))} - Email: toasoan@{domain}.vn",
            f"Ghi rõ nguồn {name} khi phát hành lại thông tin từ website này.",
            "Không được sao chép khi chưa có sự đồng ý bằng văn bản.",
            "Liên hệ quảng cáo",
        ]
        nf = int(rng.integers(2, 5))
        footer = [footer_pool[i] for i in sorted(rng.choice(len(footer_pool), nf, replace=False))]
        nh = int(rng.integers(1, 4))
        headers = [RELATED_HEADERS[i] for i in rng.choice(len(RELATED_HEADERS), nh, replace=False)]
        sites.append(
            Site(name, menu, footer, headers, bool(rng.random() < 0.5), bool(rng.random() < 0.6))
        )
    return sites


def date_line(rng: np.random.Generator) -> str:
    """A publication time stamp in one of several common layouts."""
    d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(2005, 2025))
    hh, mm = int(rng.integers(0, 24)), int(rng.integers(0, 60))
    layouts = [
        f"{pick(rng, WEEKDAYS)}, {d:02d}/{m:02d}/{y}, {hh:02d}:{mm:02d} (GMT+7)",
        f"Cập nhật lúc {hh:02d}:{mm:02d} ngày {d}/{m}/{y}",
        f"{d:02d}/{m:02d}/{y} | {hh:02d}:{mm:02d}",
    ]
    return pick(rng, layouts)


def caption_lines(rng: np.random.Generator, site: Site, title_words: list[str]) -> list[str]:
    """An image caption with its credit, as text or as HTML-to-markdown table debris."""
    if rng.random() < 0.3 and len(title_words) >= 4:
        text = " ".join(title_words[: int(rng.integers(3, min(8, len(title_words)) + 1))])
    else:
        text = pick(rng, CAPTIONS)
    credit = pick(
        rng,
        [
            f"Ảnh: {person(rng, full=False)}",
            "Ảnh minh họa",
            "Ảnh: Internet",
            f"Ảnh: {site.name}",
            "Ảnh: Tư liệu",
        ],
    )
    if site.markdown_captions:
        return ["![]() |", f"| {text}. {credit} |"] + (["|"] if rng.random() < 0.3 else [])
    return [f"{text}. {credit}"] if rng.random() < 0.6 else [credit]


def link_lines(rng: np.random.Generator, titles: list[str]) -> list[str]:
    """Tag lines such as '[Video] <another article's title>'."""
    return [f"{pick(rng, TAGS)} {t}" for t in titles]


def keyword_line(rng: np.random.Generator, title_words: list[str]) -> str:
    """'Từ khóa: a, b, c' built from two-word pieces of the title."""
    pieces = [" ".join(title_words[i : i + 2]) for i in range(0, max(len(title_words) - 1, 1), 2)]
    k = min(len(pieces), int(rng.integers(2, 5)))
    chosen = [pieces[i] for i in sorted(rng.choice(len(pieces), k, replace=False))] if k else []
    return pick(rng, ["Từ khóa: ", "Tags: ", "Từ khoá: "]) + ", ".join(chosen)
