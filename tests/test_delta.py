"""Texts stored as differences from the texts they were derived from."""

from __future__ import annotations

import pytest

from tinlap.io import delta

RAW = "Tin liên quan\nGiá xăng tăng 1.000 đồng/lít từ 15h chiều nay!  \nChia sẻ 12\n"


@pytest.mark.parametrize(
    ("base", "text"),
    [
        (RAW, "Giá xăng tăng 1.000 đồng/lít từ 15h chiều nay!"),  # lines removed, stripped
        (RAW, RAW),
        (RAW, ""),
        ("", "chữ mới hoàn toàn"),
        ("", ""),
        (RAW, "Giá xăng tăng 1.000 đồng/lít\u200b (sửa lỗi mã hoá: hoà → hòa)"),
    ],
)
def test_a_derived_text_comes_back_exactly(base: str, text: str) -> None:
    assert delta.decode(base, delta.encode(base, text)) == text


def test_a_text_close_to_its_base_costs_a_few_bytes() -> None:
    base = "\n".join(f"Đoạn {i}: thủ tướng phát biểu tại hội nghị về kinh tế." for i in range(60))
    cleaned = "\n".join(base.split("\n")[3:-3])
    assert delta.encode(base, base) == b""
    assert len(delta.encode(base, cleaned)) < len(cleaned.encode()) / 20
