"""docs/recipes.md runs as written: its Python snippets are executed (a local dataset in place
of the Hugging Face Hub, files in a temporary folder), its command is parsed by the CLI."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from helpers import STORY, write_jsonl

import tinlap
from tinlap.apps.cli import main

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "docs" / "recipes.md"
SAMPLE = ROOT / "samples" / "news.jsonl"

OTHER = (
    "Giá lúa gạo tại đồng bằng sông Cửu Long tăng mạnh trong tuần qua do nhu cầu xuất khẩu. "
    "Nhiều thương lái đến tận ruộng thu mua với giá cao hơn vụ trước khoảng năm trăm đồng. "
    "Nông dân phấn khởi nhưng vẫn lo chi phí phân bón và thuốc trừ sâu còn ở mức cao. "
    "Ngành nông nghiệp khuyến cáo bà con không nên bán hết lúa khi giá đang biến động."
)
THIRD = (
    "Đội tuyển bóng đá nữ Việt Nam bước vào đợt tập trung chuẩn bị cho giải vô địch Đông Nam Á. "
    "Huấn luyện viên trưởng gọi thêm ba cầu thủ trẻ từ các câu lạc bộ phía Nam lên đội tuyển. "
    "Ban huấn luyện cho biết mục tiêu là bảo vệ thành công chức vô địch đã giành năm ngoái. "
    "Các trận giao hữu với đội bạn sẽ diễn ra trên sân Hàng Đẫy vào cuối tháng này tại Hà Nội."
)


def snippets(language: str) -> list[str]:
    """The fenced code blocks of ``language`` in docs/recipes.md, in order."""
    text = RECIPES.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def run_snippet(code: str) -> str:
    """Execute a snippet as a script would run it; what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(RECIPES), "exec"), {"__name__": "__recipe__"})
    return out.getvalue()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """``datasets.load_dataset`` serves local datasets; ``push_to_hub`` records what it got."""
    datasets = pytest.importorskip("datasets")
    monkeypatch.chdir(tmp_path)
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    train = datasets.Dataset.from_list(rows)
    state: dict[str, Any] = {"train": train, "pushed": {}}

    def load_dataset(path: str, split: str | None = None) -> Any:
        assert path == "your-name/vi-news"
        if split is not None:
            return state["train"]
        return state["splits"]

    def push_to_hub(self: Any, repo_id: str, *args: Any, **kwargs: Any) -> None:
        state["pushed"][repo_id] = self

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.setattr(datasets.Dataset, "push_to_hub", push_to_hub)
    monkeypatch.setattr(datasets.DatasetDict, "push_to_hub", push_to_hub)
    state["datasets"] = datasets
    return state


def test_the_recipes_are_the_ones_tested() -> None:
    assert len(snippets("python")) == 3 and len(snippets("bash")) == 1


def test_hugging_face_dataset_recipe(hub: dict[str, Any]) -> None:
    printed = run_snippet(snippets("python")[0])
    train = hub["train"]
    reference = tinlap.dedup(train, text_field="text")
    pushed = hub["pushed"]["your-name/vi-news-dedup"]
    assert pushed.features == train.features
    assert pushed.num_rows == reference.summary["documents_kept"] < train.num_rows
    assert sorted(pushed["id"]) == sorted(reference.kept["id"])
    removed = reference.summary["documents_removed"]
    assert printed == f"removed {removed:,} of {train.num_rows:,} documents\n"
    clusters = Path("clusters.csv").read_text(encoding="utf-8").splitlines()
    assert clusters[0].split(",")[:3] == ["id", "cluster_id", "kept"]


def test_hugging_face_splits_recipe_leaves_no_copy_on_both_sides(hub: dict[str, Any]) -> None:
    datasets = hub["datasets"]
    rows = hub["train"].to_list()
    hub["splits"] = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(rows[20:]),
            "test": datasets.Dataset.from_list(rows[:20]),
        }
    )
    run_snippet(snippets("python")[1])
    clean = hub["pushed"]["your-name/vi-news-dedup"]
    assert set(clean) == {"test", "train"}
    assert clean["train"].features == hub["splits"]["train"].features
    assert clean["train"].num_rows < hub["splits"]["train"].num_rows  # copies of test rows went
    # No test row went for a training row; what is left holds no copy of an earlier row.
    split_of = {row["id"]: "test" for row in rows[:20]} | {row["id"]: "train" for row in rows[20:]}
    removed = hub["removed"] = [
        (r["id"], r["duplicate_of"])
        for r in tinlap.dedup(rows[:20] + rows[20:], keep="first").clusters.to_pylist()
        if not r["kept"]
    ]
    assert all(split_of[dup] == "test" or split_of[gone] == "train" for gone, dup in removed)
    assert {row["id"] for split in clean.values() for row in split} == set(split_of) - {
        gone for gone, _ in removed
    }
    together = datasets.concatenate_datasets([clean["test"], clean["train"]])
    assert tinlap.dedup(together, keep="first").summary["documents_removed"] == 0


def test_index_stream_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_jsonl(
        tmp_path / "archive.jsonl", [{"id": "a1", "text": STORY}, {"id": "a2", "text": OTHER}]
    )
    incoming = [
        {"id": "n1", "text": THIRD, "url": "https://example.vn/1"},
        {"id": "n2", "text": STORY.replace("năm sau", "năm tới"), "url": "https://example.vn/2"},
        {"id": "n3", "text": THIRD + " Vé bán từ thứ Hai.", "url": "https://example.vn/3"},
    ]
    write_jsonl(tmp_path / "incoming.jsonl", incoming)
    printed = run_snippet(snippets("python")[2])
    assert printed.splitlines() == ["n2 copies a1 (near)", "n3 copies n1 (near)"]
    with tinlap.Index.open(tmp_path / "news-index") as index:
        assert index.stats()["documents"] == 3  # a1, a2 and the new n1
        assert index.document("n1") is not None and index.document("n2") is None


def test_ray_recipe_command_is_accepted_by_the_cli() -> None:
    (script,) = snippets("bash")
    lines = script.replace("\\\n", " ").splitlines()
    (install,) = [line for line in lines if line.startswith("pip install")]
    extras = re.search(r"tinlap\[(.*?)\]", install)
    assert extras is not None
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for extra in extras.group(1).split(","):
        assert re.search(rf"^{extra} = \[", pyproject, flags=re.M), extra
    (command,) = [line for line in lines if line.startswith("tinlap dedup")]
    args = shlex.split(command.split("#")[0])[2:]
    ctx = main.commands["dedup"].make_context("dedup", args)
    assert ctx.params["executor"] == "ray" and ctx.params["ray_address"] == "auto"
    assert ctx.params["work"].startswith("s3://") and ctx.params["workers"] == 32
