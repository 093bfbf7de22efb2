"""The incremental index: CLI round trips, decisions, frozen settings, crashes, concurrency, and
agreement with ``tinlap dedup`` (the same duplicate decisions, document by document)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from helpers import STORY, load, run, seed_texts, vntc_head, write_jsonl

from tinlap.apps.cli import main
from tinlap.engines.indexing import add_records
from tinlap.index import store
from tinlap.index.store import (
    DB_NAME,
    Index,
    IndexBusyError,
    IndexProblem,
    IndexSettings,
    IndexSettingsError,
    sketch_texts,
)
from tinlap.records import Record

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "news.jsonl"

OTHER = (
    "Giá cà phê trong nước hôm nay tăng mạnh theo đà thế giới, lên mức cao nhất nhiều năm. "
    "Thương lái ở Tây Nguyên cho biết nguồn cung khan hiếm do mưa kéo dài làm chậm thu hoạch. "
    "Các doanh nghiệp xuất khẩu đang đàm phán lại hợp đồng với đối tác châu Âu và Nhật Bản."
)
THIRD = (
    "Đội tuyển bóng đá nữ Việt Nam lên đường sang Nhật Bản tập huấn chuẩn bị cho vòng loại. "
    "Huấn luyện viên trưởng gọi thêm ba cầu thủ trẻ từ các câu lạc bộ phía Nam vào danh sách. "
    "Chuyến tập huấn kéo dài hai tuần với bốn trận giao hữu trước các đội bóng chuyên nghiệp."
)
STORY_TRIMMED = ". ".join(STORY.split(". ")[:2]) + "."  # inside STORY, Jaccard 0.47
STORY_WRAPPED = "Tin nóng\n" + STORY + "\nXem thêm: giá vàng hôm nay, thời tiết cuối tuần"


def _rows(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def index(tmp_path: Path) -> Index:
    idx = Index.create(tmp_path / "idx", IndexSettings())
    yield idx
    idx.close()


# ---------------------------------------------------------------------------- decisions (API)


def test_add_reports_copies_of_indexed_and_of_the_batch(index: Index) -> None:
    (first,) = index.add([("story", STORY)])
    assert first.added and not first.duplicate and first.matchable

    verdicts = index.add(
        [("copy", STORY_WRAPPED), ("other", OTHER), ("other-again", OTHER), ("short", "")],
        only_new=True,
    )
    copy, other, again, short = verdicts
    assert copy.duplicate_of == "story" and not copy.added and not copy.matches[0].batch
    assert copy.matches[0].reason in ("exact", "near", "contained")
    assert not other.duplicate and other.added
    assert again.duplicate_of == "other" and again.matches[0].batch and not again.added
    assert (again.matches[0].reason, again.matches[0].jaccard) == ("exact", 1.0)
    assert not short.matchable and short.added  # nothing to match: kept, never a copy

    (trimmed,) = index.check([STORY_TRIMMED])
    best = trimmed.matches[0]
    assert (best.id, best.reason) == ("story", "contained")
    assert best.containment == 1.0 and best.jaccard < 0.5
    assert index.stats()["documents"] == 3  # story, other, short
    doc = index.document("story")
    assert doc is not None and doc["text"] == STORY and doc["duplicate_of"] is None
    assert index.document("nope") is None


def test_add_all_indexes_copies_too(index: Index) -> None:
    index.add([("a", STORY), ("b", STORY_WRAPPED), ("c", THIRD)])
    assert index.stats()["documents"] == 3
    assert index.stats()["duplicates"] == 1
    assert index.document("b")["duplicate_of"] == "a"  # type: ignore[index]
    (again,) = index.check([STORY])
    assert [m.id for m in again.matches][:2] == ["a", "b"]  # exact first, then the copy


def test_an_id_already_indexed_is_not_added(index: Index) -> None:
    index.add([("a", STORY)])
    (verdict,) = index.add([("a", OTHER)])
    assert not verdict.added and "already in the index" in (verdict.error or "")
    assert index.stats()["documents"] == 1


def test_parallel_sketching_gives_the_same_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``index add -j 2``: chunks sketched by two processes, decided here in input order."""
    monkeypatch.setattr(store, "_CHUNK", 16)  # many chunks, several in flight at once
    records = [Record(str(r["id"]), str(r["text"]), "") for r in _rows(SAMPLES)]
    with Index.create(tmp_path / "one", IndexSettings()) as one:
        serial = [v.to_dict() for v in one.add_records(records, only_new=True)]
    with Index.create(tmp_path / "two", IndexSettings()) as two:
        parallel = [v.to_dict() for v in add_records(two, records, 2, only_new=True)]
        assert two.stats()["documents"] == sum(v["added"] for v in serial)
    assert parallel == serial and len(serial) == 81 and any(v["duplicate"] for v in serial)


def test_the_index_keeps_texts_not_shingle_sets(tmp_path: Path, vntc_path: Path) -> None:
    """Shingle sets are rebuilt from the stored text; texts get a zstd dictionary once 1,000
    have been seen, and those stored before it stay readable."""
    rows = vntc_head(vntc_path, 1300)
    with Index.create(tmp_path / "idx", IndexSettings()) as index:
        index.add([(str(r["id"]), str(r["text"])) for r in rows[:300]])  # too few to train
        index.add([(str(r["id"]), str(r["text"])) for r in rows[300:1200]])  # trains
        (copy,) = index.check([str(rows[5]["text"])])
        assert copy.duplicate_of == str(rows[5]["id"]) and copy.matches[0].reason == "exact"
        for row in (rows[5], rows[1100]):
            doc = index.document(str(row["id"]))
            assert (
                doc is not None
                and doc["text"] == sketch_texts([str(row["text"])], index.settings).texts([0])[0]
            )
        per_doc = index.stats()["bytes_on_disk"] / 1200
    with sqlite3.connect(tmp_path / "idx" / DB_NAME) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(docs)")}
        assert "shingles" not in columns and "text" in columns
        assert con.execute("SELECT count(*) FROM dictionaries").fetchone() == (1,)
    assert per_doc < 3000  # 7.5 KB a document with 64-bit shingle sets stored


# ------------------------------------------------------------------------------------- CLI


def test_cli_round_trip_matches_dedup(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    code, _, err = _invoke("index", "create", str(idx))
    assert code == 0, err
    report = tmp_path / "report.jsonl"
    code, _, err = _invoke(
        "index", "add", str(idx), str(SAMPLES), "--only-new", "--report", str(report)
    )
    assert code == 0, err
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    added = {r["id"] for r in lines if r["added"]}
    assert len(lines) == 81 and 40 <= len(added) < 50  # 40 stories, a few partial reuses
    assert all(r["duplicate"] != r["added"] for r in lines)
    assert f"added {len(added)}" in err

    # The same stories as `tinlap dedup --keep first` keeps (cleaning: single-document rules).
    run([SAMPLES], tmp_path / "out", keep_policy="first", learn_boilerplate=False)
    kept = set(load(tmp_path / "out").kept)
    assert added == kept

    code, stdout, err = _invoke("index", "query", str(idx), str(SAMPLES))
    assert code == 0, err
    queried = [json.loads(line) for line in stdout.splitlines()]
    assert all(r["duplicate"] and not r["added"] for r in queried)
    assert "Checked 81 documents: 81 copies of indexed ones" in err

    code, stdout, _ = _invoke("index", "stats", str(idx))
    stats = json.loads(stdout)
    assert stats["documents"] == len(added) and stats["adds"] == 1
    assert stats["settings"]["containment_threshold"] == 0.4


def test_dedup_against_removes_only_copies_of_indexed_documents(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    with Index.create(idx, IndexSettings()) as index:
        index.add([("old-story", STORY)])
    batch = write_jsonl(
        tmp_path / "new.jsonl",
        [
            {"id": "repost", "text": STORY_WRAPPED},
            {"id": "other", "text": OTHER},
            {"id": "other-again", "text": OTHER},  # a copy inside the batch only: stays
        ],
    )
    code, _, err = _invoke(
        "dedup", str(batch), "--against", str(idx), "-o", str(tmp_path / "o"), "-j", "1"
    )
    assert code == 0, err
    out = load(tmp_path / "o")
    assert set(out.kept) == {"other", "other-again"}
    assert out.removed["repost"]["duplicate_of"] == "old-story"
    assert out.kept_rows == {"old-story": out.row("old-story")}  # the indexed original
    assert out.summary["against"] == str(idx.resolve())


def test_settings_are_frozen(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    assert _invoke("index", "create", str(idx), "--containment", "0.7")[0] == 0
    code, _, err = _invoke("index", "create", str(idx))
    assert code != 0 and "already exists" in err
    batch = write_jsonl(tmp_path / "b.jsonl", [{"id": "x", "text": STORY}])
    code, _, err = _invoke("dedup", str(batch), "--against", str(idx), "-o", str(tmp_path / "o"))
    assert code != 0 and "other settings" in err and "containment-threshold" in err
    assert "Traceback" not in err

    # A different normalisation (here: a tampered fingerprint) is refused on open.
    with sqlite3.connect(idx / DB_NAME) as con:
        con.execute("UPDATE meta SET value = 'x' WHERE key = 'fingerprint'")
    with pytest.raises(IndexSettingsError, match="rebuild the index"):
        Index(idx)
    code, _, err = _invoke("index", "stats", str(tmp_path))
    assert code != 0 and "no index here" in err
    with pytest.raises(IndexProblem, match="not an empty folder"):
        Index.create(tmp_path, IndexSettings())
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / DB_NAME).write_bytes(b"not a database at all" * 100)
    code, _, err = _invoke("index", "add", str(tmp_path / "junk"), str(batch))
    assert code == 1 and "not a readable tinlap index" in err


def test_serve_without_token_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINLAP_TOKEN", raising=False)
    Index.create(tmp_path / "idx", IndexSettings()).close()
    code, _, err = _invoke("serve", str(tmp_path / "idx"))
    assert code == 2 and "TINLAP_TOKEN" in err


# ------------------------------------------------------------------------- faults, concurrency

_CRASHING_ADD = """
import sys
import tinlap.index.store
from tinlap.index.store import Index
from tinlap.records import Record

tinlap.index.store._CHUNK = 100  # documents are written into the open transaction chunk by chunk
index = Index(sys.argv[1])
index.add([("first", sys.argv[2])])
print("committed", flush=True)

def records():
    for i in range(1_000_000):
        if i == 250:  # two chunks are in the open transaction by now
            print("midway", flush=True)
        yield Record(f"d{i}", f"bản tin số {i} " + "hôm nay trời nắng đẹp " * 3 + str(i * 7919), "")

for _ in index.add_records(records()):
    pass
"""


def test_kill_during_add_leaves_the_last_complete_add(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    Index.create(idx, IndexSettings()).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_ADD, str(idx), STORY],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "committed"
    assert proc.stdout.readline().strip() == "midway"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    with Index(idx) as index:
        assert index.stats()["documents"] == 1
        assert index.document("first") is not None and index.document("d0") is None
        (again,) = index.add([("later", OTHER)])  # still writable
        assert again.added
    with sqlite3.connect(idx / DB_NAME) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_second_writer_waits_then_fails_clearly(tmp_path: Path) -> None:
    idx = tmp_path / "idx"
    Index.create(idx, IndexSettings()).close()
    first, second = Index(idx), Index(idx, wait=0.3)
    adding = first.add_records(iter([Record("a", STORY, ""), Record("b", OTHER, "")]))
    next(adding)  # the add's transaction is open (it holds the write lock)
    started = time.monotonic()
    with pytest.raises(IndexBusyError, match="another writer"):
        second.add([("c", THIRD)])
    assert time.monotonic() - started >= 0.25  # it waited
    batch = write_jsonl(tmp_path / "b.jsonl", [{"id": "c", "text": THIRD}])
    code, _, err = _invoke("index", "add", str(idx), str(batch), "--wait", "0.1")
    assert code == 1 and "another writer" in err and "Traceback" not in err
    assert second.stats()["documents"] == 0  # readers are not blocked

    list(adding)  # the first add commits; the second writer gets its turn
    assert second.add([("c", THIRD)])[0].added
    assert second.stats()["documents"] == 3
    first.close()
    second.close()


def test_concurrent_readers_while_writing(index: Index) -> None:
    index.add([("story", STORY)])
    stop = threading.Event()
    problems: list[BaseException] = []
    seen: list[list[int]] = [[] for _ in range(3)]

    def reader(k: int) -> None:
        try:
            while not stop.is_set():
                (verdict,) = index.check([STORY_WRAPPED])
                assert verdict.duplicate_of == "story"
                seen[k].append(index.stats()["documents"])
        except BaseException as err:
            problems.append(err)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for batch in range(8):
        index.add([(f"n{batch}-{i}", f"{OTHER} {batch} {i} {THIRD[: 20 * i]}") for i in range(20)])
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not problems, problems
    assert all(s == sorted(s) and s for s in seen)  # counts only grow, and every reader ran
    assert index.stats()["documents"] == 1 + 8 * 20


# --------------------------------------------------------------- consistency with tinlap dedup


def test_same_decisions_as_dedup_keep_first(
    tmp_path: Path, vntc_path: Path, seeds_dir: Path
) -> None:
    """Adding one document at a time (only new ones) removes exactly what ``tinlap dedup
    --keep first`` removes, for the same reasons: the index keeps the first-seen copy."""
    rows = [dict(r) for r in vntc_head(vntc_path, 1500)[:500]]
    variants = []
    for k, row in enumerate(rows[:80:3]):  # trimmed, extended, wrapped and re-encoded reposts
        paragraphs = str(row["text"]).split("\n")
        text = {
            0: "\n".join(paragraphs[:-1]),
            1: "\n".join([*paragraphs, str(rows[-k - 1]["text"])]),
            2: "Tin liên quan\n" + str(row["text"]) + "\nChia sẻ 12",
            3: unicodedata.normalize("NFD", str(row["text"])),
        }[k % 4]
        variants.append({"id": f"variant-{k}", "text": text})
    seeds = [{"id": name, "text": text} for name, text in seed_texts(seeds_dir).items()]
    docs = [{"id": str(r["id"]), "text": r["text"]} for r in rows]
    for k, variant in enumerate(variants):  # spread the reposts through the corpus
        docs.insert(40 + 23 * k, variant)
    docs[100:100] = seeds
    path = write_jsonl(tmp_path / "batch.jsonl", docs)

    run([path], tmp_path / "out", keep_policy="first", learn_boilerplate=False)
    removed = load(tmp_path / "out").removed

    with Index.create(tmp_path / "idx", IndexSettings()) as index:
        verdicts = [index.add([(d["id"], d["text"])], only_new=True)[0] for d in docs]
    by_index = {v.id: v for v in verdicts if v.duplicate}

    assert len(removed) >= 25  # reposts and the seed pair are in play, for every reason
    assert {r["reason"] for r in removed.values()} == {"exact", "near", "contained"}
    assert set(by_index) == set(removed)
    for doc_id, row in removed.items():
        best = by_index[doc_id].matches[0]
        assert (best.id, best.reason) == (row["duplicate_of"], row["reason"]), doc_id
        assert best.jaccard == pytest.approx(row["jaccard"])
        assert best.containment == pytest.approx(row["containment"])
