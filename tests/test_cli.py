"""The ``tinlap`` command end to end: input formats and options, bad input, help.

Most runs go through click's CliRunner (in-process, fast); a few through a real subprocess to
see exactly what a user sees on stderr (no Python traceback, ever).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner, Result
from helpers import (
    SEED_CLEAN,
    SEED_SCRAPE,
    check_invariants,
    jsonl_bytes,
    kept_bytes,
    load,
    run,
    seed_texts,
    write_jsonl,
    write_txt_folder,
)

from tinlap.apps.cli import main
from tinlap.config import DedupConfig
from tinlap.core.normalise import repair_text
from tinlap.records import ProblemLog

# Distinct Vietnamese texts, long enough to shingle; B_COPY is a shorter near copy of B.
A = (
    "Giá vàng hôm nay tăng mạnh sau khi thị trường thế giới biến động trong tuần qua, "
    "các doanh nghiệp kinh doanh vàng tại Hà Nội điều chỉnh giá bán lên cao."
)
B = (
    "Đội tuyển bóng đá Việt Nam giành chiến thắng thuyết phục trong trận đấu tối qua tại "
    "sân vận động Mỹ Đình trước sự cổ vũ của hàng chục nghìn khán giả."
)
B_COPY = B.replace(" thuyết phục", "")
C = (
    "Bộ Giáo dục và Đào tạo công bố phương án tuyển sinh đại học năm nay với nhiều điểm mới "
    "đáng chú ý dành cho học sinh lớp mười hai trên cả nước."
)
D = (
    "Thành phố Hồ Chí Minh triển khai dự án chống ngập quy mô lớn tại các quận trung tâm "
    "nhằm giảm thiểu thiệt hại do triều cường và mưa lớn gây ra."
)
ROWS = [
    {"id": "a", "text": A, "topic": "kinh-te", "n": 1},
    {"id": "b", "text": B, "topic": "the-thao", "n": 2},
    {"id": "a-copy", "text": A, "topic": "kinh-te", "n": 3},
    {"id": "b-copy", "text": B_COPY, "topic": "the-thao", "n": 4},
    {"id": "c", "text": C, "topic": "giao-duc", "n": 5},
]
EXPECTED_KEPT = {"a", "b", "c"}
EXPECTED_REMOVED = {"a-copy": ("a", "exact"), "b-copy": ("b", "near")}

OUTPUT_FILES = ("clusters.parquet", "summary.json", "kept.jsonl", "kept.parquet", "kept/")


def invoke(*args: Any, ok: bool = True) -> Result:
    """Run ``tinlap ARGS`` in-process; never lets a Python exception pass as a result."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"tinlap {' '.join(map(str, args))} raised {result.exception!r}\n{result.output}"
        ) from result.exception
    assert "Traceback" not in result.output
    if ok:
        assert result.exit_code == 0, result.output
    return result


def dedup(*args: Any, ok: bool = True) -> Result:
    return invoke("dedup", "-j", "1", *args, ok=ok)


def tinlap_process(*args: Any) -> subprocess.CompletedProcess[str]:
    """A real ``tinlap`` process (the console script's code path)."""
    code = "import sys; from tinlap.apps.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_expected_dedup(out: Path, **load_kw: str) -> None:
    output = load(out, **load_kw)
    assert set(output.kept) == EXPECTED_KEPT
    assert {k: (r["duplicate_of"], r["reason"]) for k, r in output.removed.items()} == (
        EXPECTED_REMOVED
    )
    check_invariants(output, [r["id"] for r in ROWS], DedupConfig())


# ------------------------------------------------------------------------------ help and usage


def test_help_lists_commands_and_outputs() -> None:
    result = invoke("--help")
    text = " ".join(result.output.split())
    assert "dedup" in text
    for name in OUTPUT_FILES:
        assert name in text, name
    assert "tinlap" in invoke("--version").output


def test_dedup_help_mentions_every_output_file() -> None:
    result = invoke("dedup", "--help")
    text = " ".join(result.output.split())
    for name in OUTPUT_FILES:
        assert name in text, name
    for column in ("id", "cluster_id", "kept", "duplicate_of", "jaccard", "containment", "reason"):
        assert column in text
    for option in ("--output", "--format", "--text-field", "--id-field", "--keep", "--strict"):
        assert option in text


@pytest.mark.parametrize(
    "option",
    [
        ["--containment", "1.5"],
        ["--containment", "0"],
        ["--jaccard", "-0.1"],
        ["--num-perm", "100"],
        ["--num-perm", "0"],
        ["--bands", "100"],  # 100 x 2 rows > 128 values
        ["--shingle-size", "0"],
        ["--keep", "random"],
        ["--format", "xml"],
        ["--workers", "0"],
        ["--batch-size", "0"],
    ],
)
def test_bad_option_values_are_usage_errors(tmp_path: Path, option: list[str]) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    result = dedup(corpus, "-o", tmp_path / "out", *option, ok=False)
    assert result.exit_code == 2, result.output
    assert "Usage:" in result.stderr
    assert option[0].lstrip("-").split("-")[0] in result.stderr.lower()
    assert not (tmp_path / "out").exists()


def test_missing_arguments_are_usage_errors(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    assert invoke("dedup", corpus, ok=False).exit_code == 2  # no --output
    assert invoke("dedup", "-o", tmp_path / "out", ok=False).exit_code == 2  # no input


# ------------------------------------------------------------------------------- input formats


def test_jsonl_end_to_end(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    result = dedup(corpus, "-o", tmp_path / "out")
    assert_expected_dedup(tmp_path / "out")
    assert "Read 5 documents: kept 3, removed 2" in result.stderr
    # Kept records keep their other fields, in input order.
    kept = [orjson.loads(x) for x in (tmp_path / "out" / "kept.jsonl").read_bytes().splitlines()]
    assert [r["id"] for r in kept] == ["a", "b", "c"]
    assert [(r["topic"], r["n"]) for r in kept] == [
        ("kinh-te", 1),
        ("the-thao", 2),
        ("giao-duc", 5),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".tinlap-manifest.json",  # the run's files, written last (see test_guarantees.py)
        "clusters.parquet",
        "kept.jsonl",
        "problems.jsonl",
        "summary.json",
    ]


def test_summary_json_contract(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    dedup(corpus, "-o", tmp_path / "out", "-q")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    for key in (
        "documents_read",
        "documents_kept",
        "documents_removed",
        "removed_by_reason",
        "clusters",
        "input_problems",
        "cleaning",
        "matching",
        "seconds_per_stage",
        "config",
    ):
        assert key in summary, key
    assert set(summary["input_problems"]) >= {"errors", "warnings", "by_kind", "messages"}
    assert summary["removed_by_reason"] == {"exact": 1, "near": 1, "contained": 0}
    assert summary["clusters"] == 2
    assert summary["config"]["workers"] == 1
    schema = pq.read_schema(tmp_path / "out" / "clusters.parquet")
    assert [(f.name, str(f.type)) for f in schema] == [
        ("id", "string"),
        ("cluster_id", "string"),
        ("kept", "bool"),
        ("duplicate_of", "string"),
        ("jaccard", "double"),
        ("containment", "double"),
        ("reason", "string"),
    ]


def test_quiet_prints_only_errors(tmp_path: Path) -> None:
    """-q silences progress, warnings and the closing line; a skipped record still reaches
    stderr (issue 13 item 4)."""
    corpus = write_jsonl(tmp_path / "in.jsonl", [*ROWS, {"id": "x"}])
    result = dedup(corpus, "-o", tmp_path / "out", "--quiet")
    assert result.stdout == ""
    assert result.stderr == f"tinlap: {corpus}:6: error: no 'text' field (fields: 'id'); skipped\n"
    clean = write_jsonl(tmp_path / "clean.jsonl", ROWS)
    assert dedup(clean, "-o", tmp_path / "out2", "--quiet").output == ""


# ---------------------------------------------------------------------------------- exit codes


def test_exit_code_4_when_no_document_was_read(tmp_path: Path) -> None:
    """A wrong --text-field: every record skipped was rc 0 (and silent with -q); now rc 4 with
    the errors and the reason on stderr, -q or not."""
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    for quiet in ([], ["-q"]):
        out = tmp_path / f"out{len(quiet)}"
        result = dedup(corpus, "-o", out, "--text-field", "body", *quiet, ok=False)
        assert result.exit_code == 4
        assert "error: no 'body' field" in result.stderr
        assert "no document was read: 5 input records skipped" in result.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert summary["documents_read"] == 0
        assert len((out / "problems.jsonl").read_text().splitlines()) == 5
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    result = invoke("clean", empty, "-o", tmp_path / "out-empty", "-j", "1", ok=False)
    assert result.exit_code == 4 and "the input holds no records" in result.stderr


def test_exit_code_4_beyond_max_errors(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", [*ROWS, {"id": "x"}, {"id": "y", "text": 3}])
    assert dedup(corpus, "-o", tmp_path / "o1").exit_code == 0  # default: no limit
    assert dedup(corpus, "-o", tmp_path / "o2", "--max-errors", "2").exit_code == 0
    result = dedup(corpus, "-o", tmp_path / "o3", "--max-errors", "1", "-q", ok=False)
    assert result.exit_code == 4
    assert "2 input records skipped, more than --max-errors 1" in result.stderr
    assert load(tmp_path / "o3").kept  # the output is written all the same
    strict = dedup(corpus, "-o", tmp_path / "o4", "--strict", ok=False)
    assert strict.exit_code == 4 and "--strict: stopped here" in strict.stderr


def test_exit_codes_for_usage_and_unusable_input(tmp_path: Path) -> None:
    assert dedup(tmp_path / "missing.jsonl", "-o", tmp_path / "o", ok=False).exit_code == 3
    assert dedup("--no-such-option", ok=False).exit_code == 2
    assert invoke("clean", tmp_path / "missing", "-o", tmp_path / "o", ok=False).exit_code == 3
    for command in ("dedup", "clean"):
        help_text = invoke(command, "--help").output
        assert "Exit codes:" in help_text and "--max-errors" in help_text


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl_gives_the_same_output(tmp_path: Path, suffix: str) -> None:
    data = jsonl_bytes(ROWS)
    (tmp_path / "plain.jsonl").write_bytes(data)
    packed = gzip.compress(data) if suffix.endswith("gz") else zstandard.compress(data)
    (tmp_path / f"packed{suffix}").write_bytes(packed)
    dedup(tmp_path / "plain.jsonl", "-o", tmp_path / "plain")
    dedup(tmp_path / f"packed{suffix}", "-o", tmp_path / "packed")
    assert_expected_dedup(tmp_path / "packed")
    name = "clusters.parquet"
    assert (tmp_path / "plain" / name).read_bytes() == (tmp_path / "packed" / name).read_bytes()
    assert (tmp_path / "packed" / f"kept{suffix}").exists()  # the input's compression kept
    assert kept_bytes(tmp_path / "packed") == (tmp_path / "plain" / "kept.jsonl").read_bytes()


def test_parquet_extra_columns_preserved(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": [r["id"] for r in ROWS],
            "text": [r["text"] for r in ROWS],
            "topic": [r["topic"] for r in ROWS],
            "n": pa.array([r["n"] for r in ROWS], pa.int32()),
            "score": [0.5, 1.5, 2.5, 3.5, None],
            "tags": [["x"], [], ["y", "z"], None, ["w"]],
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    dedup(tmp_path / "in.parquet", "-o", tmp_path / "out")
    assert_expected_dedup(tmp_path / "out")
    kept = pq.read_table(tmp_path / "out" / "kept.parquet")
    assert set(kept.column_names) == {"id", "text", "topic", "n", "score", "tags"}
    assert pa.types.is_integer(kept.schema.field("n").type)
    rows = {r["id"]: r for r in kept.to_pylist()}
    assert set(rows) == EXPECTED_KEPT
    for original in table.to_pylist():
        if original["id"] in rows:
            got = rows[original["id"]]
            assert {k: got[k] for k in ("topic", "n", "score", "tags")} == {
                k: original[k] for k in ("topic", "n", "score", "tags")
            }
            assert got["text"] == original["text"]  # nothing to clean in these


def test_jsonl_to_parquet_output(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    dedup(corpus, "-o", tmp_path / "out", "--output-format", "parquet")
    assert_expected_dedup(tmp_path / "out")
    assert not (tmp_path / "out" / "kept.jsonl").exists()


def test_txt_folder_kept_mirrors_relative_paths(tmp_path: Path) -> None:
    docs = {
        "vne/kinh-te/a.txt": A,
        "vne/the-thao/b.txt": B,
        "wp/a copy (2).txt": A,
        "wp/sub/deeper/b-copy.txt": B_COPY,
        "c.txt": C,
    }
    folder = write_txt_folder(tmp_path / "in", docs)
    (folder / "notes.md").write_text("not a corpus file")
    (folder / ".hidden.txt").write_text(A)
    result = dedup(folder, "-o", tmp_path / "out")
    output = load(tmp_path / "out")
    assert set(output.kept) == {"vne/kinh-te/a.txt", "vne/the-thao/b.txt", "c.txt"}
    assert output.removed["wp/a copy (2).txt"]["duplicate_of"] == "vne/kinh-te/a.txt"
    assert output.removed["wp/sub/deeper/b-copy.txt"]["duplicate_of"] == "vne/the-thao/b.txt"
    for doc_id in output.kept:
        assert (tmp_path / "out" / "kept" / doc_id).read_text() == docs[doc_id]
    assert "notes.md" in result.stderr  # skipped, and said so
    check_invariants(output, list(docs), DedupConfig())


def test_glob_inputs(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in" / "part-1.jsonl", ROWS[:3])
    write_jsonl(tmp_path / "in" / "part-2.jsonl", ROWS[3:])
    write_jsonl(tmp_path / "in" / "other.ndjson", [{"id": "zz", "text": D}])
    dedup(str(tmp_path / "in" / "part-*.jsonl"), "-o", tmp_path / "out")
    assert_expected_dedup(tmp_path / "out")

    write_txt_folder(tmp_path / "txt", {"x/a.txt": A, "y/z/a2.txt": A, "y/b.txt": B})
    dedup(str(tmp_path / "txt" / "**" / "*.txt"), "-o", tmp_path / "out-txt")
    output = load(tmp_path / "out-txt")
    assert set(output.kept) == {"x/a.txt", "y/b.txt"}  # ids relative to the glob's fixed root
    assert output.removed["y/z/a2.txt"]["duplicate_of"] == "x/a.txt"


def test_missing_glob_match_is_an_error(tmp_path: Path) -> None:
    result = dedup(str(tmp_path / "*.jsonl"), "-o", tmp_path / "out", ok=False)
    assert result.exit_code == 3
    assert "no files match" in result.stderr


def test_format_forcing(tmp_path: Path) -> None:
    # A .txt file that really holds JSON Lines: one document unless forced.
    (tmp_path / "records.txt").write_bytes(jsonl_bytes(ROWS))
    dedup(tmp_path / "records.txt", "-o", tmp_path / "as-txt")
    assert list(load(tmp_path / "as-txt").kept) == ["records.txt"]
    dedup(tmp_path / "records.txt", "-o", tmp_path / "as-jsonl", "--format", "jsonl")
    assert_expected_dedup(tmp_path / "as-jsonl")

    # Files with an unknown extension in a folder: skipped with a warning unless forced.
    write_txt_folder(tmp_path / "dat", {"a.dat": A, "b.dat": B, "c.dat": A})
    result = dedup(tmp_path / "dat", "-o", tmp_path / "skipped", ok=False)
    assert result.exit_code == 3 and "no .txt, .jsonl, .parquet" in result.stderr
    dedup(tmp_path / "dat", "-o", tmp_path / "forced", "--format", "txt")
    output = load(tmp_path / "forced")
    assert set(output.kept) == {"a.dat", "b.dat"}
    assert output.removed["c.dat"]["reason"] == "exact"


def test_text_and_id_fields(tmp_path: Path) -> None:
    rows = [{"doc_id": r["id"], "body": r["text"], "text": "ignored", "n": r["n"]} for r in ROWS]
    corpus = write_jsonl(tmp_path / "in.jsonl", rows)
    dedup(corpus, "-o", tmp_path / "out", "--text-field", "body", "--id-field", "doc_id")
    assert_expected_dedup(tmp_path / "out", id_field="doc_id", text_field="body")
    kept = [orjson.loads(x) for x in (tmp_path / "out" / "kept.jsonl").read_bytes().splitlines()]
    assert [set(r) for r in kept] == [{"doc_id", "body", "text", "n"}] * 3
    assert {r["text"] for r in kept} == {"ignored"}

    # Default fields here: "text" is "ignored" everywhere (five exact copies), no "id" field, so
    # ids fall back to FILE:LINE (reported once) and the writer adds them under --id-field.
    result = dedup(corpus, "-o", tmp_path / "default", "--id-field", "nope")
    output = load(tmp_path / "default", id_field="nope")
    assert output.kept == {"in.jsonl:1": "ignored"}
    assert sorted(output.removed) == [f"in.jsonl:{i}" for i in range(2, 6)]
    assert f"{tmp_path / 'in.jsonl'}:1: warning: 5 record(s) have no 'nope'" in result.stderr


def test_keep_original_text_and_no_clean(tmp_path: Path, seeds_dir: Path) -> None:
    original = seed_texts(seeds_dir)[SEED_SCRAPE]
    corpus = write_jsonl(tmp_path / "in.jsonl", [{"id": "s", "text": original}])

    dedup(corpus, "-o", tmp_path / "cleaned")
    cleaned = load(tmp_path / "cleaned")
    assert "Tin bài liên quan" not in cleaned.kept["s"]  # related-links block dropped
    assert cleaned.kept["s"].startswith('Mỹ "chốt" địa điểm')
    assert sum(cleaned.summary["cleaning"]["lines_removed_by_rule"].values()) > 0

    dedup(corpus, "-o", tmp_path / "original", "--keep-original-text")
    assert load(tmp_path / "original").kept["s"] == original

    dedup(corpus, "-o", tmp_path / "raw", "--no-clean")
    raw = load(tmp_path / "raw")
    assert raw.kept["s"] == repair_text(original)
    assert "Tin bài liên quan" in raw.kept["s"]
    assert raw.summary["cleaning"]["lines_removed_by_rule"] == {}
    assert raw.summary["config"]["clean"] is False


def test_seed_pair_through_the_cli(tmp_path: Path, seeds_dir: Path) -> None:
    result = dedup(seeds_dir, "-o", tmp_path / "out")
    output = load(tmp_path / "out")
    assert list(output.kept) == [SEED_CLEAN]
    assert output.removed[SEED_SCRAPE]["duplicate_of"] == SEED_CLEAN
    assert "kept 1, removed 1" in result.stderr


def test_two_workers_through_the_cli(tmp_path: Path) -> None:
    rows = [*ROWS] + [
        {"id": f"x{i}", "text": f"{D} Bản tin số {i} với nội dung khác biệt {i * 7919}."}
        for i in range(40)
    ]
    corpus = write_jsonl(tmp_path / "in.jsonl", rows)
    invoke("dedup", corpus, "-o", tmp_path / "one", "-j", "1", "--batch-size", "7")
    invoke("dedup", corpus, "-o", tmp_path / "two", "-j", "2", "--batch-size", "7")
    for name in ("clusters.parquet", "kept.jsonl"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


# ------------------------------------------------------------------------------------ bad input


def problems_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())["input_problems"]


def test_invalid_utf8_is_repaired_with_a_warning(tmp_path: Path) -> None:
    data = (
        jsonl_bytes(ROWS[:2])
        + b'{"id": "bad", "text": "caf\xe9 ngon qu\xe1 '
        + C.encode()
        + b'"}\n'
    )
    (tmp_path / "in.jsonl").write_bytes(data)
    write_txt_folder(tmp_path / "txt", {"ok.txt": A})
    (tmp_path / "txt" / "latin1.txt").write_bytes("Hà Nội ".encode() + b"\xff\xfe ok " + D.encode())
    result = dedup(tmp_path / "in.jsonl", "-o", tmp_path / "out")
    assert f"{tmp_path / 'in.jsonl'}:3: warning: invalid UTF-8" in result.stderr
    output = load(tmp_path / "out")
    assert "\ufffd" in output.kept["bad"] and C in output.kept["bad"]
    assert problems_of(tmp_path / "out")["by_kind"] == {"warning:invalid_utf8": 1}

    result = dedup(tmp_path / "txt", "-o", tmp_path / "out-txt")
    assert f"{tmp_path / 'txt' / 'latin1.txt'}: warning: invalid UTF-8" in result.stderr
    assert "\ufffd" in load(tmp_path / "out-txt").kept["latin1.txt"]


def test_empty_texts_and_files_are_kept_with_a_warning(tmp_path: Path) -> None:
    rows = [*ROWS[:2], {"id": "empty", "text": ""}, {"id": "blank", "text": "  \n "}]
    write_jsonl(tmp_path / "in" / "docs.jsonl", rows)
    (tmp_path / "in" / "nothing.jsonl").write_bytes(b"")
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    result = dedup(tmp_path / "in", "-o", tmp_path / "out", "--output-format", "jsonl")
    stderr = result.stderr
    assert f"{tmp_path / 'in' / 'docs.jsonl'}:3: warning: empty text" in stderr
    assert f"{tmp_path / 'in' / 'docs.jsonl'}:4: warning: empty text" in stderr
    assert f"{tmp_path / 'in' / 'nothing.jsonl'}: warning: file has no records" in stderr
    assert f"{tmp_path / 'in' / 'empty.txt'}: warning: empty text" in stderr
    output = load(tmp_path / "out")
    # Empty documents are kept (not matched to each other, not dropped).
    assert set(output.kept) == {"a", "b", "empty", "blank", "empty.txt"}
    assert output.clusters == []
    assert output.summary["documents_read"] == 5


def test_missing_text_field_skips_only_that_record(tmp_path: Path) -> None:
    lines = jsonl_bytes(ROWS[:2]) + b'{"id": "no-text", "body": "x"}\n' + jsonl_bytes(ROWS[2:])
    (tmp_path / "in.jsonl").write_bytes(lines)
    result = dedup(tmp_path / "in.jsonl", "-o", tmp_path / "out")
    assert f"{tmp_path / 'in.jsonl'}:3: error: no 'text' field" in result.stderr
    assert_expected_dedup(tmp_path / "out")
    assert problems_of(tmp_path / "out")["errors"] == 1


def test_duplicate_ids_are_renamed_with_a_warning(tmp_path: Path) -> None:
    rows = [{"id": "same", "text": A}, {"id": "same", "text": C}, {"id": "same", "text": D}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    result = dedup(tmp_path / "in.jsonl", "-o", tmp_path / "out")
    assert f"{tmp_path / 'in.jsonl'}:2: warning: id 'same' was already used" in result.stderr
    assert f"{tmp_path / 'in.jsonl'}:3: warning:" in result.stderr
    output = load(tmp_path / "out")
    assert output.kept == {"same": A, "same#2": C, "same#3": D}
    assert problems_of(tmp_path / "out")["by_kind"] == {"warning:duplicate_id": 2}


def test_binary_file_is_an_error_and_the_rest_is_processed(tmp_path: Path) -> None:
    write_txt_folder(tmp_path / "in", {"a.txt": A, "b.txt": B})
    (tmp_path / "in" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    result = dedup(tmp_path / "in", "-o", tmp_path / "out")
    assert f"{tmp_path / 'in' / 'image.txt'}: error: binary file" in result.stderr
    assert set(load(tmp_path / "out").kept) == {"a.txt", "b.txt"}


def test_binary_file_named_explicitly_without_extension(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(bytes(range(256)) * 10)
    proc = tinlap_process("dedup", tmp_path / "blob", "-o", tmp_path / "out", "-j", "1")
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert str(tmp_path / "blob") in proc.stderr and "cannot tell its format" in proc.stderr


def test_malformed_json_line_names_file_and_line(tmp_path: Path) -> None:
    lines = (
        jsonl_bytes(ROWS[:3]) + b'{"id": "broken", "text": "unterminated\n' + jsonl_bytes(ROWS[3:])
    )
    (tmp_path / "in.jsonl").write_bytes(lines)
    proc = tinlap_process("dedup", tmp_path / "in.jsonl", "-o", tmp_path / "out", "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{tmp_path / 'in.jsonl'}:4: error: malformed JSON" in proc.stderr
    assert_expected_dedup(tmp_path / "out")


def test_enormous_record_is_skipped(tmp_path: Path) -> None:
    huge = {"id": "huge", "text": "chữ " * 5000}
    write_jsonl(tmp_path / "in.jsonl", [*ROWS[:2], huge, *ROWS[2:]])
    problems = ProblemLog()
    summary = run(
        [tmp_path / "in.jsonl"], tmp_path / "out", max_record_bytes=4096, problems=problems
    )
    assert [(p.severity, p.kind, p.line) for p in problems.problems] == [("error", "too_large", 3)]
    assert summary["input_problems"]["by_kind"] == {"error:too_large": 1}
    assert_expected_dedup(tmp_path / "out")
    # The same limit applies to a whole .txt file.
    write_txt_folder(tmp_path / "txt", {"big.txt": huge["text"], "a.txt": A})
    run([tmp_path / "txt"], tmp_path / "out-txt", max_record_bytes=4096)
    assert set(load(tmp_path / "out-txt").kept) == {"a.txt"}


def test_nonexistent_input_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    proc = tinlap_process("dedup", missing, "-o", tmp_path / "out")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert f"{missing}: no such file or folder" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_strict_stops_at_the_first_error(tmp_path: Path) -> None:
    lines = jsonl_bytes(ROWS[:2]) + b"not json\n" + b'{"id": "x"}\n' + jsonl_bytes(ROWS[2:])
    (tmp_path / "in.jsonl").write_bytes(lines)
    proc = tinlap_process(
        "dedup", tmp_path / "in.jsonl", "-o", tmp_path / "out", "-j", "1", "--strict"
    )
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert f"{tmp_path / 'in.jsonl'}:3:" in proc.stderr
    assert ":4:" not in proc.stderr  # stopped at the first
    # No half-written output, no leftover work files.
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []

    # The same with two workers (the error comes while worker processes are busy).
    proc = tinlap_process(
        "dedup",
        tmp_path / "in.jsonl",
        "-o",
        tmp_path / "out-j2",
        "-j",
        "2",
        "--batch-size",
        "1",
        "--strict",
    )
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert f"{tmp_path / 'in.jsonl'}:3:" in proc.stderr
    assert not (tmp_path / "out-j2").exists() or list((tmp_path / "out-j2").iterdir()) == []

    # Warnings alone do not stop a strict run.
    write_jsonl(tmp_path / "warn.jsonl", [*ROWS, {"id": "a", "text": ""}])
    assert dedup(tmp_path / "warn.jsonl", "-o", tmp_path / "out2", "--strict").exit_code == 0


def test_nothing_is_silently_lost(tmp_path: Path) -> None:
    """N lines, k of them bad: kept + removed + errors == N, and every bad line is named."""
    good = [*ROWS, *({"id": f"g{i}", "text": f"{D} Số {i}."} for i in range(20))]
    bad_lines = [
        b"{not json}",
        b'{"id": "no text"}',
        b'["an", "array"]',
        b"42",
        b'{"id": "t", "text": 17}',
        b'{"id": "n", "text": null}',
        b'{"id": "trunc", "text": "abc',
    ]
    lines = [orjson.dumps(r) for r in good]
    for i, bad in enumerate(bad_lines):
        lines.insert(3 + i * 4, bad)
    bad_at = [i + 1 for i, line in enumerate(lines) if line in bad_lines]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = dedup(tmp_path / "in.jsonl", "-o", tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    n = len(lines)
    assert (
        summary["documents_kept"]
        + summary["documents_removed"]
        + summary["input_problems"]["errors"]
        == n
    )
    assert summary["input_problems"]["errors"] == len(bad_lines)
    for line in bad_at:
        assert f"{tmp_path / 'in.jsonl'}:{line}: error:" in result.stderr
    output = load(tmp_path / "out")
    assert len(output.kept) + len(output.removed) == len(good)


def test_truncated_gzip_keeps_the_records_before_the_break(tmp_path: Path) -> None:
    rows = [{"id": f"r{i}", "text": f"{D} Bản tin số {i * 7919} ngày {i}."} for i in range(300)]
    packed = gzip.compress(jsonl_bytes(rows))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    result = dedup(tmp_path / "cut.jsonl.gz", "-o", tmp_path / "out")
    assert f"{tmp_path / 'cut.jsonl.gz'}:" in result.stderr and "truncated" in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["input_problems"]["by_kind"] == {"error:truncated": 1}
    assert 0 < summary["documents_read"] < 300
    output = load(tmp_path / "out")
    assert set(output.kept) | set(output.removed) == {
        f"r{i}" for i in range(summary["documents_read"])
    }


def test_parquet_bad_rows_are_named_by_row(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b", "gap", "c"],
            "text": [A, B, None, C],
            "n": [1, 2, 3, 4],
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    result = dedup(tmp_path / "in.parquet", "-o", tmp_path / "out")
    assert f"{tmp_path / 'in.parquet'}:3: error: 'text' is null" in result.stderr
    assert set(load(tmp_path / "out").kept) == {"a", "b", "c"}
    pq.write_table(table.drop_columns(["text"]), tmp_path / "no-text.parquet")
    result = dedup(tmp_path / "no-text.parquet", tmp_path / "in.parquet", "-o", tmp_path / "out2")
    assert f"{tmp_path / 'no-text.parquet'}: error: no 'text' column" in result.stderr
    assert set(load(tmp_path / "out2").kept) == {"a", "b", "c"}


def test_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    dedup(corpus, corpus, str(tmp_path / "*.jsonl"), "-o", tmp_path / "out")
    assert_expected_dedup(tmp_path / "out")


def test_output_must_be_a_folder(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "in.jsonl", ROWS)
    (tmp_path / "afile").write_text("x")
    result = dedup(corpus, "-o", tmp_path / "afile", ok=False)
    assert result.exit_code == 2 and "is a file" in result.stderr
    assert (tmp_path / "afile").read_text() == "x"


def test_empty_corpus(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'{"id": "x"}\n\n')
    result = dedup(tmp_path / "in.jsonl", "-o", tmp_path / "out", ok=False)
    assert result.exit_code == 4  # nothing read: never a silent success
    assert "Read 0 documents" in result.stderr
    assert (tmp_path / "out" / "kept.jsonl").read_bytes() == b""
    assert pq.read_table(tmp_path / "out" / "clusters.parquet").num_rows == 0


# ------------------------------------------------------- bugs found here (fixed or still open)


def test_txt_ids_that_are_no_file_names_get_escaped_names(tmp_path: Path) -> None:
    """Ids that cannot be files under kept/ get a safe escaped name listed in
    kept_names.parquet: no document is lost, nothing lands outside kept/."""
    rows = [
        {"id": "../evil", "text": A},
        {"id": "ok", "text": B},
        {"id": "ok/inside", "text": C},  # "ok" is already a file
        {"id": "/abs", "text": D},
        {"id": "x" * 300, "text": "Miền Trung đón đợt mưa lớn kéo dài, nhiều nơi chia cắt."},
    ]
    write_jsonl(tmp_path / "in" / "in.jsonl", rows)
    proc = tinlap_process(
        "dedup",
        tmp_path / "in" / "in.jsonl",
        "-o",
        tmp_path / "in" / "out",
        "-j",
        "1",
        "--output-format",
        "txt",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "error" not in proc.stderr, proc.stderr
    assert not (tmp_path / "in" / "evil").exists()
    assert not Path("/abs").exists()
    out = tmp_path / "in" / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["documents_read"] == 5 and summary["documents_unwritable"] == 0
    names = {r["id"]: r["file"] for r in pq.read_table(out / "kept_names.parquet").to_pylist()}
    assert set(names) == {"../evil", "ok/inside", "/abs", "x" * 300}
    assert all((out / f).is_file() for f in names.values())
    assert (out / "kept" / "ok").is_file()


def test_parquet_shards_with_row_number_ids(tmp_path: Path) -> None:
    """Two Parquet shards whose ids are row numbers 0..N: a very ordinary input."""
    n = 10_100
    pq.write_table(
        pa.table(
            {
                "id": list(range(n)),
                "text": [f"văn bản số {i} kể chuyện {i * 7} và {i * 13}" for i in range(n)],
            }
        ),
        tmp_path / "shard-0.parquet",
    )
    pq.write_table(
        pa.table({"id": [0, 1, 2], "text": [B, C, D]}),
        tmp_path / "shard-1.parquet",
    )
    proc = tinlap_process(
        "dedup",
        tmp_path / "shard-0.parquet",
        tmp_path / "shard-1.parquet",
        "-o",
        tmp_path / "out",
        "-j",
        "1",
        "-q",
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    kept = pq.read_table(tmp_path / "out" / "kept.parquet")
    assert kept.num_rows == summary["documents_kept"]
    assert {"0#2", "1#2", "2#2"} <= {str(i) for i in kept.column("id").to_pylist()}


def test_rerun_with_output_inside_input_folder(tmp_path: Path) -> None:
    folder = write_txt_folder(tmp_path / "in", {"a.txt": A, "b.txt": B, "c.txt": C})
    dedup(folder, "-o", folder / "out")
    first = (folder / "out" / "clusters.parquet").read_bytes()
    result = dedup(folder, "-o", folder / "out")
    assert "Read 3 documents" in result.stderr, result.stderr
    assert (folder / "out" / "clusters.parquet").read_bytes() == first
    assert sorted(load(folder / "out").kept) == ["a.txt", "b.txt", "c.txt"]
    assert (
        json.loads((folder / "out" / "summary.json").read_text())["input_problems"]["errors"] == 0
    )


def test_parquet_output_field_type_change_is_reported_not_a_traceback(tmp_path: Path) -> None:
    rows = (
        {
            "id": f"d{i}",
            "text": f"văn bản số {i} kể chuyện {i * 7} và {i * 13}",
            "n": i if i < 10_000 else "n/a",
        }
        for i in range(10_005)
    )
    write_jsonl(tmp_path / "in.jsonl", rows)
    proc = tinlap_process(
        "dedup",
        tmp_path / "in.jsonl",
        "-o",
        tmp_path / "out",
        "-j",
        "1",
        "-q",
        "--output-format",
        "parquet",
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    kept = pq.read_table(tmp_path / "out" / "kept.parquet").to_pylist()
    assert len(kept) == summary["documents_kept"] == 10_005
    # Every value survives (as text, if the column had to change type).
    assert [str(r["n"]) for r in kept] == [str(i) for i in range(10_000)] + ["n/a"] * 5


# --------------------------------------------------- CSV and special files end to end (issue 13)


def test_csv_named_directly_is_deduplicated_as_a_table(tmp_path: Path) -> None:
    """Item 5: a .csv given directly was read as one text document and rewritten by the
    cleaner; now its rows are the documents, written back as JSONL."""
    import csv

    with (tmp_path / "in.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["id", "text", "topic", "n"])
        writer.writeheader()
        writer.writerows(ROWS)
    result = dedup(tmp_path / "in.csv", "-o", tmp_path / "out")
    assert "Read 5 documents: kept 3, removed 2" in result.stderr
    assert_expected_dedup(tmp_path / "out")
    kept = [orjson.loads(x) for x in (tmp_path / "out" / "kept.jsonl").read_bytes().splitlines()]
    assert kept[0] == {"id": "a", "text": A, "topic": "kinh-te", "n": "1"}
    (tmp_path / "in.dat").write_bytes((tmp_path / "in.csv").read_bytes())
    refused = dedup(tmp_path / "in.dat", "-o", tmp_path / "o2", ok=False)
    assert refused.exit_code == 3 and "unknown extension '.dat'" in refused.stderr
    assert dedup(tmp_path / "in.dat", "-o", tmp_path / "o3", "--format", "csv").exit_code == 0


def test_special_files_and_outside_links_end_to_end(tmp_path: Path) -> None:
    """Item 6: a FIFO hung the run and a link to a file outside the folder was copied into the
    kept corpus; now both are named on stderr and neither is read."""
    import os

    folder = tmp_path / "in"
    write_txt_folder(folder, {"a.txt": A, "b.txt": B})
    os.mkfifo(folder / "pipe.txt")
    (folder / "loop.txt").symlink_to("loop.txt")
    (tmp_path / "shadow").write_text("root:secret-hash:19000:0:99999:7:::")
    (folder / "shadow.txt").symlink_to(tmp_path / "shadow")
    proc = tinlap_process("dedup", folder, "-o", tmp_path / "out", "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{folder / 'pipe.txt'}: error: a FIFO" in proc.stderr
    assert f"{folder / 'loop.txt'}: error: symbolic link loop" in proc.stderr
    assert f"{folder / 'shadow.txt'}: warning: symbolic link to" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "kept").iterdir()) == ["a.txt", "b.txt"]
