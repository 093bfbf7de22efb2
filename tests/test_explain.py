"""tinlap explain: scores and decisions as dedup takes them, the documented JSON, the rendering."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import SEED_CLEAN, SEED_SCRAPE, run, write_txt_folder

from tinlap.apps.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"
_VOCABULARY = (
    "bộ ngoại giao mỹ xác nhận trưởng sẽ hội đàm với các quan chức hàng đầu của trung quốc vào "
    "tuần tới tại cuộc họp dự kiến diễn ra ngày sau khi tổng thống tham gia nghị thượng đỉnh "
    "nhà lãnh đạo thuộc tứ kim cương gồm nhật ấn độ úc ông bà nói rằng hòa bình an ninh"
)


def story(seed: int, words: int) -> str:
    rng = random.Random(seed)
    syllables = _VOCABULARY.split()
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        sentence = " ".join(rng.choice(syllables) for _ in range(12))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return " ".join(sentences)


def explain(*args: Any) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["explain", "--json", *map(str, args)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def files(tmp_path: Path, a: str, b: str) -> tuple[Path, Path]:
    (tmp_path / "a.txt").write_text(a)
    (tmp_path / "b.txt").write_text(b)
    return tmp_path / "a.txt", tmp_path / "b.txt"


# --------------------------------------------------------------------------------- JSON


SPAN_LIST = list
DOC_SCHEMA = {
    "id": str,
    "where": str,
    "text": str,
    "key_tokens": int,
    "shingles": int,
    "shared": SPAN_LIST,
    "only": SPAN_LIST,
    "boilerplate": list,
}
SCHEMA = {
    "schema": str,
    "a": DOC_SCHEMA,
    "b": DOC_SCHEMA,
    "scores": {
        "jaccard": float,
        "containment_a_in_b": float,
        "containment_b_in_a": float,
        "shared_shingles": int,
        "exact": bool,
        "candidate_probability": float,
    },
    "settings": {
        "shingle_size": int,
        "shingles": str,
        "char_shingle_size": int,
        "jaccard_threshold": float,
        "containment_threshold": float,
        "certain_containment": float,
        "min_sentence_coverage": float,
        "keep_policy": str,
        "bands": int,
        "rows": int,
        "clean": bool,
    },
    "decision": {
        "removed": (str, type(None)),
        "duplicate_of": (str, type(None)),
        "reason": (str, type(None)),
        "why": str,
    },
    "recorded": (dict, type(None)),
    "alignment": (dict, type(None)),
}
ALIGNMENT_SCHEMA = {
    "copy": str,
    "original": str,
    "coverage": float,
    "exact": float,
    "contained": float,
    "edited": float,
    "required": float,
    "decisive": bool,
    "sentences": list,
}
SENTENCE_SCHEMA = {
    "index": int,
    "status": str,
    "text": str,
    "similarity": float,
    "target": (str, type(None)),
    "edit": (str, type(None)),
}
ROW_SCHEMA = {
    "id": str,
    "cluster_id": str,
    "kept": bool,
    "duplicate_of": (str, type(None)),
    "jaccard": (float, type(None)),
    "containment": (float, type(None)),
    "reason": (str, type(None)),
}


def check(value: Any, schema: Any, where: str = "$") -> None:
    """``value`` has exactly the keys of ``schema`` and values of the types it names."""
    if isinstance(schema, dict):
        assert isinstance(value, dict), where
        assert set(value) == set(schema), (where, set(value) ^ set(schema))
        for key, sub in schema.items():
            check(value[key], sub, f"{where}.{key}")
    else:
        assert isinstance(value, schema), (where, value)


def test_json_schema(seeds_dir: Path) -> None:
    out = explain(seeds_dir / SEED_SCRAPE, seeds_dir / SEED_CLEAN)
    check(out, SCHEMA)
    assert out["schema"] == "tinlap.apps.explain/1" and out["recorded"] is None
    for side in ("a", "b"):
        doc = out[side]
        spans = sorted(doc["shared"] + doc["only"])
        assert all(len(s) == 2 and 0 <= s[0] < s[1] <= len(doc["text"]) for s in spans)
        assert all(end < start for (_, end), (start, _) in pairwise(spans))
        for line in doc["boilerplate"]:
            check(line, {"line": int, "text": str, "rule": str})
    raw = (seeds_dir / SEED_SCRAPE).read_text().split("\n")
    assert all(raw[b["line"] - 1] == b["text"] for b in out["a"]["boilerplate"])
    assert {b["text"] for b in out["a"]["boilerplate"]} >= {"Tin bài liên quan", "Đọc nhiều"}
    assert out["b"]["boilerplate"] == []  # its photo caption is article text now
    s = out["scores"]
    assert s["containment_a_in_b"] == pytest.approx(269 / 307)  # the shared photo caption counts
    assert s["jaccard"] == pytest.approx(269 / (307 + 449 - 269))
    assert out["decision"]["removed"] == SEED_SCRAPE and out["decision"]["reason"] == "near"
    assert out["decision"]["duplicate_of"] == SEED_CLEAN
    # Containment 0.88 ≥ 0.7 decides without the text; the sentences are shown all the same.
    check(out["alignment"], ALIGNMENT_SCHEMA)
    assert out["alignment"]["decisive"] is False and out["alignment"]["copy"] == "a"
    assert out["alignment"]["coverage"] > 0.6


# ----------------------------------------------------------------------------- decisions


def test_decisions(tmp_path: Path) -> None:
    base = story(1, 120)
    near = explain(*files(tmp_path, base, base.replace("hòa bình", "chiến tranh", 2) + " Hết."))
    assert near["decision"]["reason"] == "near" and near["decision"]["removed"] == "a.txt"

    longer = f"{base}\n\n{story(2, 200)}"
    contained = explain(*files(tmp_path, base, longer))
    assert contained["scores"]["jaccard"] < 0.5 <= contained["scores"]["containment_a_in_b"]
    assert contained["decision"]["reason"] == "contained"
    assert contained["decision"]["removed"] == "a.txt"

    # Keep first prefers the short one, and only the contained side may go: both stay.
    kept = explain(*files(tmp_path, base, longer), "--keep", "first")
    assert kept["decision"]["removed"] is None
    assert "only the contained side may go" in kept["decision"]["why"]
    stricter = explain(*files(tmp_path, base, longer), "--containment", "1")
    assert stricter["decision"]["reason"] == "contained"  # containment is exactly 1
    assert stricter["settings"]["containment_threshold"] == 1.0

    variant = unicodedata.normalize("NFD", base.replace("hòa", "hoà").upper())
    exact = explain(*files(tmp_path, base, variant))
    assert exact["scores"]["exact"] and exact["decision"]["reason"] == "exact"
    assert exact["alignment"] is None  # identical keys: no sentence to show

    unrelated = explain(*files(tmp_path, base, story(3, 120)))
    assert unrelated["decision"]["removed"] is None
    assert unrelated["scores"]["candidate_probability"] < 0.5
    assert "not copies" in unrelated["decision"]["why"]
    assert unrelated["alignment"] is None  # no removal, no sentence check

    empty = explain(*files(tmp_path, base, "…"))
    assert empty["decision"]["removed"] is None and "no words" in empty["decision"]["why"]


# -------------------------------------------------------------------- ids of a dedup output


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("explain") / "out"
    run([SAMPLES], out)
    return out


def test_ids_of_an_output_score_as_recorded(sample_out: Path) -> None:
    """Re-read, re-cleaned (with the boilerplate learned again) and re-scored, a removed pair
    gets exactly the scores and the decision clusters.parquet holds."""
    summary = json.loads((sample_out / "summary.json").read_text())
    assert summary["cleaning"]["learned_boilerplate"]["chrome_lines"]  # relearned
    rows = pq.read_table(sample_out / "clusters.parquet").to_pylist()
    for row in [r for r in rows if not r["kept"]][:3]:
        out = explain(row["duplicate_of"], row["id"], "--output-dir", sample_out)
        assert out["scores"]["jaccard"] == pytest.approx(row["jaccard"])
        assert out["scores"]["containment_b_in_a"] == pytest.approx(row["containment"])
        assert out["decision"]["removed"] == row["id"]
        assert out["decision"]["reason"] == row["reason"]
        check(out["recorded"]["b"], ROW_SCHEMA)
        assert out["recorded"]["b"] == row
        assert out["recorded"]["a"]["kept"] is True


def test_txt_folder_ids_and_unknown_ids(tmp_path: Path) -> None:
    text = story(4, 150)
    folder = write_txt_folder(tmp_path / "in", {"a/x.txt": text, "b/x.txt": text + " Hết."})
    out = tmp_path / "out"
    run([folder], out)
    found = explain("a/x.txt", "b/x.txt", "--output-dir", out)
    assert found["a"]["where"].endswith("a/x.txt") and found["b"]["text"].endswith("Hết.")
    result = CliRunner().invoke(main, ["explain", "a/x.txt", "nope.txt", "--output-dir", str(out)])
    assert result.exit_code != 0 and "not found" in result.output and "nope.txt" in result.output
    result = CliRunner().invoke(main, ["explain", "a/x.txt", "b/x.txt"])
    assert result.exit_code != 0 and "--output-dir" in result.output


# -------------------------------------------------------------------------------- rendering


def test_plain_when_piped_coloured_on_request(seeds_dir: Path) -> None:
    args = ["explain", str(seeds_dir / SEED_SCRAPE), str(seeds_dir / SEED_CLEAN)]
    plain = CliRunner().invoke(main, args).output  # not a terminal
    assert "\x1b[" not in plain
    assert "Decision: remove A (near copy of" in plain
    assert "{+Được biết,+} [=trước đó" in plain
    assert "[-Tin bài liên quan-]  (block_header)" in plain
    assert re.search(r"\{\+\"Chúng tôi sẽ thẳng thắn.*bà Psaki nói\.\+\}", plain)
    coloured = CliRunner().invoke(main, [*args, "--color"]).output
    assert "\x1b[32m" in coloured and "\x1b[9m" in coloured  # green shared; struck boilerplate
    assert "[=" not in coloured


def test_sentence_check_keeps_partial_reuse(tmp_path: Path) -> None:
    """Containment just over the threshold from sentences that are each only partly reused:
    dedup's sentence check (CopyRule.pair_rejections) says no, and so does explain."""
    rng = random.Random(5)
    words = _VOCABULARY.split()
    a, b = [], []
    for i in range(8):
        shared = [rng.choice(words) for _ in range(20)]
        a.append(" ".join(shared + [rng.choice(words) for _ in range(12)]) + ".")
        b.append(" ".join(shared + [f"khác{i}x{k}" for k in range(12)]) + ".")
    out = explain(*files(tmp_path, " ".join(a), " ".join(b) + " " + story(9, 200)))
    s = out["scores"]
    assert 0.4 <= s["containment_a_in_b"] < 0.7 and s["jaccard"] < 0.5
    assert out["decision"]["removed"] is None
    assert "sentence text" in out["decision"]["why"]
    # The alignment the decision used: A's sentences, none reproduced even with edits.
    check(out["alignment"], ALIGNMENT_SCHEMA)
    assert out["alignment"]["copy"] == "a" and out["alignment"]["coverage"] < 0.6
    assert out["alignment"]["decisive"] is True
    assert {m["status"] for m in out["alignment"]["sentences"]} == {"unmatched"}


def test_alignment_shows_sentences_matched_with_edits(tmp_path: Path) -> None:
    """A repost edited in every sentence, in the grey zone: a copy, and the edits are shown."""
    rng = random.Random(8)
    words = _VOCABULARY.split()
    original = [" ".join(rng.choice(words) for _ in range(16)) + "." for _ in range(12)]
    repost = []
    for sentence in original[:8]:
        tokens = sentence.rstrip(".").split()
        tokens[8] = "đổi"  # one word changed in every sentence
        repost.append(" ".join(tokens) + ".")
    out = explain(*files(tmp_path, " ".join(repost), " ".join(original)))
    assert out["decision"]["removed"] == "a.txt"
    al = out["alignment"]
    check(al, ALIGNMENT_SCHEMA)
    assert al["copy"] == "a" and al["original"] == "b" and al["coverage"] >= 0.9
    for m in al["sentences"]:
        check(m, SENTENCE_SCHEMA)
    edited = [m for m in al["sentences"] if m["status"] == "edited"]
    assert len(edited) >= 6
    assert all("{+" in m["edit"] and "[-" in m["edit"] for m in edited)  # the changed word


def test_a_story_reposted_by_four_outlets_is_one_cluster_and_explain_says_why(
    tmp_path: Path,
) -> None:
    """B copies most of the longest text A; C and D copy B (and each other) but not A. The run
    keeps B for them rather than removing it for A (as many removals, more copies together):
    both engines decide so, and explain says why B stays although the pair alone removes it."""
    s = [story(100 + i, 24) for i in range(20)]
    docs = {
        "a.txt": " ".join(s[0:6] + s[10:18]),
        "b.txt": " ".join(s[0:6] + s[6:9]),
        "c.txt": " ".join([*s[6:9], s[5], s[18]]),
        "d.txt": " ".join([*s[6:9], s[5], s[19]]),
    }
    folder = write_txt_folder(tmp_path / "in", docs)
    for engine in ("in-memory", "sharded"):
        out = tmp_path / engine
        args = [
            "dedup",
            str(folder),
            "--output",
            str(out),
            "--engine",
            engine,
            "-j",
            "1",
            "--quiet",
        ]
        assert CliRunner().invoke(main, args).exit_code == 0
        rows = {r["id"]: r for r in pq.read_table(out / "clusters.parquet").to_pylist()}
        assert {i: r["duplicate_of"] for i, r in rows.items() if not r["kept"]} == {
            "c.txt": "b.txt",
            "d.txt": "b.txt",
        }
    found = explain("b.txt", "a.txt", "--output-dir", tmp_path / "sharded")
    assert found["decision"]["removed"] == "b.txt"  # the pair alone: B is a copy of A
    plain = (
        CliRunner()
        .invoke(main, ["explain", "b.txt", "a.txt", "--output-dir", str(tmp_path / "sharded")])
        .output
    )
    assert "The run kept A all the same" in plain
