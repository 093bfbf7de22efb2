"""Generate ``samples/news.jsonl``: a small synthetic news corpus with known copies.

Every sentence is built here from templates written for this project, so the sample ships no
text from elsewhere. It imitates what tinlap is for: stories republished by other outlets inside
their own chrome ("Tin liên quan" lists, footers, captions), trimmed or extended, re-encoded (NFD,
old/new tone placement, zero-width characters), plus exact copies and unrelated stories.

Run: ``python samples/make_samples.py`` (deterministic; rewrites samples/news.jsonl).
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

PLACES = [
    "Hà Nội",
    "Đà Nẵng",
    "Huế",
    "Cần Thơ",
    "Hải Phòng",
    "Quảng Ninh",
    "Nghệ An",
    "Khánh Hòa",
    "Lâm Đồng",
    "Thanh Hóa",
    "Bình Định",
    "Đồng Tháp",
]
PEOPLE = [
    "ông Nguyễn Văn Hòa",
    "bà Trần Thị Thúy",
    "ông Lê Quang Khỏe",
    "bà Phạm Thị Thủy",
    "ông Hoàng Minh Quý",
    "bà Võ Thị Hoa",
    "ông Đặng Văn Tuấn",
    "bà Bùi Thị Lan",
]
ROLES = [
    "Chủ tịch UBND tỉnh",
    "Giám đốc Sở Y tế",
    "Phó giám đốc Sở Giao thông vận tải",
    "Trưởng phòng Kinh tế",
    "Giám đốc Trung tâm Khí tượng",
    "Hiệu trưởng trường đại học",
]
TOPICS = [
    ("mưa lũ", "lượng mưa", "các hộ dân vùng trũng", "sơ tán"),
    ("giá lúa", "sản lượng lúa", "nông dân", "thu mua"),
    ("tuyến đường mới", "tiến độ thi công", "người dân hai bên đường", "giải phóng mặt bằng"),
    ("kỳ thi tốt nghiệp", "số thí sinh", "các điểm thi", "coi thi"),
    ("dịch sốt xuất huyết", "số ca mắc", "các trạm y tế", "phun thuốc"),
    ("lễ hội du lịch", "lượng khách", "các khách sạn", "đón khách"),
    ("dự án nhà ở xã hội", "số căn hộ", "người lao động thu nhập thấp", "xét duyệt hồ sơ"),
    ("mùa khô", "mực nước hồ chứa", "các hợp tác xã", "điều tiết nước"),
]
# Sentences are assembled from short phrases so that most 5-word shingles cross a phrase
# boundary: two different stories share few shingles, as real different stories do.
LEADS = [
    "Sáng nay",
    "Chiều qua",
    "Theo báo cáo mới",
    "Trong tuần này",
    "Từ đầu tháng",
    "Tại cuộc họp",
    "Ngay sau đó",
    "Cũng trong ngày",
    "Trước đó",
    "Đến nay",
]
VERBS = [
    "đã kiểm tra",
    "cho biết về",
    "đề xuất tăng",
    "yêu cầu rà soát",
    "công bố số liệu về",
    "đánh giá lại",
    "hỗ trợ thêm cho",
    "khảo sát",
    "lên kế hoạch cho",
    "tổng kết",
]
TAILS = [
    "tại các huyện ven biển",
    "ở khu vực nội thành",
    "trong quý này",
    "từ tuần sau",
    "theo chỉ đạo của tỉnh",
    "với kinh phí {n} tỷ đồng",
    "ở {n} xã vùng sâu",
    "trước mùa mưa bão",
    "sau {k} tháng triển khai",
    "kể từ năm {year}",
]
CHROME_TOP = [
    "Trang chủ > Thời sự > Xã hội",
    "Thứ hai, 10/3/2025 08:30 (GMT+7)",
    "Chia sẻ 12 Thích 3",
]
CHROME_BOTTOM = [
    "Bản quyền thuộc về Báo Tin Nhanh. Ghi rõ nguồn khi phát hành lại thông tin từ website này.",
    "Giấy phép số 123/GP-BTTTT do Bộ Thông tin và Truyền thông cấp.",
    "Tổng biên tập: Nguyễn Văn A",
]
HEADERS = ["Tin liên quan", "Đọc nhiều", "Xem thêm", "Các tin bài khác"]


def _article(rng: random.Random, index: int) -> dict[str, str]:
    a, b, c, d = rng.choice(TOPICS)
    place, person, role = rng.choice(PLACES), rng.choice(PEOPLE), rng.choice(ROLES)
    paragraphs = []
    for _ in range(rng.randint(5, 8)):
        sentences = []
        for _ in range(rng.randint(2, 3)):
            numbers = {
                "year": rng.randint(2015, 2024),
                "n": rng.randint(2, 900),
                "k": rng.randint(2, 20),
            }
            subject = rng.choice([person, role + " " + place, "ngành chức năng", c])
            sentence = " ".join(
                [
                    rng.choice(LEADS) + ",",
                    subject,
                    rng.choice(VERBS),
                    rng.choice([a, b, c, d]),
                    rng.choice(TAILS).format(**numbers),
                ]
            )
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
        paragraphs.append(" ".join(sentences))
    title = f"{place}: {a} và những việc cần làm ngay ({index})"
    return {"title": title, "body": "\n".join(paragraphs)}


def _reencode(text: str, rng: random.Random) -> str:
    """Old tone placement, NFD and zero-width characters, as other outlets' CMSs produce."""
    for new, old in (
        ("hòa", "hoà"),
        ("Hòa", "Hoà"),
        ("thủy", "thuỷ"),
        ("Thủy", "Thuỷ"),
        ("khỏe", "khoẻ"),
        ("Khỏe", "Khoẻ"),
        ("Thúy", "Thuý"),
        ("quý", "qúy"),
    ):
        text = text.replace(new, old)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), k=min(8, len(words))):
        words[i] = words[i] + "\u200b"
    return unicodedata.normalize("NFD", " ".join(words))


def _repost(base: dict[str, str], others: list[dict[str, str]], rng: random.Random) -> str:
    paragraphs = base["body"].split("\n")
    if rng.random() < 0.5:
        paragraphs = paragraphs[: max(3, len(paragraphs) - 2)]  # trimmed
    else:
        paragraphs = [*paragraphs, rng.choice(others)["body"].split("\n")[0]]  # extended
    lines = [*rng.sample(CHROME_TOP, 2), base["title"], *paragraphs, "Ảnh: Minh Hòa"]
    lines.append(rng.choice(HEADERS))
    lines += [o["title"] for o in rng.sample(others, 4)]
    lines += rng.sample(CHROME_BOTTOM, 2)
    text = "\n".join(lines)
    return _reencode(text, rng) if rng.random() < 0.6 else text


def main() -> None:
    rng = random.Random(20261125)
    articles = [_article(rng, i) for i in range(40)]
    rows = []
    for i, art in enumerate(articles):
        rows.append(
            {
                "id": f"tinnhanh/{i:03d}",
                "source": "tinnhanh",
                "text": f"{art['title']}\n{art['body']}",
            }
        )
    for i, art in enumerate(articles[:25]):
        others = [o for o in articles if o is not art]
        for outlet in ("baomoi24", "docnhanh")[: rng.randint(1, 2)]:
            rows.append(
                {"id": f"{outlet}/{i:03d}", "source": outlet, "text": _repost(art, others, rng)}
            )
    for i in range(0, 10, 3):  # exact re-publications
        rows.append({"id": f"mirror/{i:03d}", "source": "mirror", "text": rows[i]["text"]})
    rng.shuffle(rows)
    out = Path(__file__).with_name("news.jsonl")
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} documents to {out}")


if __name__ == "__main__":
    main()
