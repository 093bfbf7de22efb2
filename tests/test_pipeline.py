"""The whole dedup run (tinlap.engines.inmemory.run_dedup) on real and generated corpora.

Real data: the canonical seed pair hidden among VNTC distractors, and VNTC's own exact
duplicates. Generated data (hypothesis): the output contract's invariants on small corpora
mixing originals, exact copies, edited, truncated and extended copies and empty texts.
"""

from __future__ import annotations

import random
import tempfile
import unicodedata
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    SEED_CLEAN,
    SEED_SCRAPE,
    check_invariants,
    load,
    nfc,
    run,
    seed_texts,
    vntc_exact_sample,
    vntc_head,
    write_jsonl,
    write_txt_folder,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tinlap.config import DedupConfig
from tinlap.core.clean import Cleaner
from tinlap.core.decide import KEEP_POLICIES
from tinlap.core.normalise import matching_key, repair_text

# ------------------------------------------------------------------------- the canonical pair


def _assert_seed_pair(output: Any) -> None:
    removed = output.removed
    assert SEED_SCRAPE in removed, (
        f"{SEED_SCRAPE} was not removed; its cluster row: {output.row(SEED_SCRAPE)}"
    )
    row = removed[SEED_SCRAPE]
    assert row["duplicate_of"] == SEED_CLEAN, row
    assert row["cluster_id"] == SEED_CLEAN, row
    assert row["reason"] in ("contained", "near"), row
    assert SEED_CLEAN in output.kept
    assert SEED_SCRAPE not in output.kept
    assert output.kept_rows[SEED_CLEAN]["kept"] is True
    # No distractor was pulled into the story's cluster.
    assert output.cluster_of(SEED_CLEAN) == sorted([SEED_CLEAN, SEED_SCRAPE])


def test_seed_pair_among_vntc_distractors_jsonl(
    tmp_path: Path, seeds_dir: Path, vntc_path: Path
) -> None:
    distractors = list(vntc_head(vntc_path, 1500))
    seeds = seed_texts(seeds_dir)
    rows = [
        *distractors[:700],
        {"id": SEED_SCRAPE, "text": seeds[SEED_SCRAPE], "source": "seed"},
        *distractors[700:],
        {"id": SEED_CLEAN, "text": seeds[SEED_CLEAN], "source": "seed"},
    ]
    corpus = write_jsonl(tmp_path / "corpus.jsonl", rows)
    config = DedupConfig(workers=1, batch_size=500)
    run([corpus], tmp_path / "out", workers=1, batch_size=500)
    output = load(tmp_path / "out")

    _assert_seed_pair(output)
    check_invariants(output, [r["id"] for r in rows], config)
    assert output.summary["documents_read"] == len(rows) == 1502
    assert output.summary["input_problems"]["errors"] == 0
    # The kept seed comes out cleaned, with the record's other fields.
    assert output.kept[SEED_CLEAN].split()[:4] == ["Ngày", "10-3,", "Bộ", "Ngoại"]


def test_seed_pair_among_vntc_distractors_txt_folder(
    tmp_path: Path, seeds_dir: Path, vntc_path: Path
) -> None:
    # VNTC ids are real relative paths ("test/Chinh tri Xa hoi/XH_NLD_T_ (8962).txt").
    distractors = {r["id"]: r["text"] for r in vntc_head(vntc_path, 1500)[::5]}
    assert len(distractors) == 300
    docs = {**distractors, **seed_texts(seeds_dir)}
    folder = write_txt_folder(tmp_path / "in", docs)
    run([folder], tmp_path / "out")
    output = load(tmp_path / "out")

    _assert_seed_pair(output)
    check_invariants(output, list(docs), DedupConfig())
    # kept/ mirrors the input's relative paths, removed documents are absent.
    kept_dir = tmp_path / "out" / "kept"
    assert not (kept_dir / SEED_SCRAPE).exists()
    assert (kept_dir / SEED_CLEAN).is_file()
    for doc_id in distractors:
        assert (kept_dir / doc_id).is_file() == (doc_id in output.kept)


def test_seed_pair_alone_keeps_the_complete_copy(tmp_path: Path, seeds_dir: Path) -> None:
    summary = run([seeds_dir], tmp_path / "out")
    output = load(tmp_path / "out")
    _assert_seed_pair(output)
    assert summary["documents_read"] == 2
    assert summary["documents_kept"] == 1
    assert summary["clusters"] == 1
    assert summary["output_format"] == "txt"


# ------------------------------------------------------------------ VNTC's own exact duplicates


def test_vntc_exact_duplicate_groups_all_found(tmp_path: Path, vntc_path: Path) -> None:
    rows = [dict(r) for r in vntc_exact_sample(vntc_path, 2500, 250)]
    # Plus copies that differ only in Unicode normalisation (NFD: decomposed tone marks).
    rng = random.Random(7)
    for row in rng.sample(rows[:2500], 15):
        rows.append(
            {**row, "id": row["id"] + "#nfd", "text": unicodedata.normalize("NFD", row["text"])}
        )
    rng.shuffle(rows)

    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[nfc(row["text"])].append(row["id"])
    groups_list = [sorted(g) for g in groups.values() if len(g) > 1]
    assert len(groups_list) >= 250  # the sample really holds many groups

    corpus = write_jsonl(tmp_path / "sample.jsonl", rows)
    config = DedupConfig(workers=1)
    run([corpus], tmp_path / "out")
    output = load(tmp_path / "out")
    check_invariants(output, [r["id"] for r in rows], config)

    removed = output.removed
    problems = []
    for group in groups_list:
        rows_of = [output.row(i) for i in group]
        if any(r is None for r in rows_of):
            problems.append(f"not all in clusters.parquet: {group}")
            continue
        clusters = {r["cluster_id"] for r in rows_of}
        kept = [r["id"] for r in rows_of if r["kept"]]
        if len(clusters) != 1:
            problems.append(f"split over clusters {clusters}: {group}")
        elif len(kept) == 1:
            for doc_id in group:
                if doc_id != kept[0] and (
                    removed[doc_id]["reason"] != "exact"
                    or removed[doc_id]["duplicate_of"] != kept[0]
                ):
                    problems.append(f"{doc_id}: {removed[doc_id]} (group kept {kept[0]})")
        elif len(kept) == 0:
            # The whole group went as a copy of one document outside it, for one reason.
            outside = {removed[i]["duplicate_of"] for i in group}
            reasons = {removed[i]["reason"] for i in group}
            if len(outside) != 1 or outside & set(group) or len(reasons) != 1:
                problems.append(
                    f"group {group} removed inconsistently: {[removed[i] for i in group]}"
                )
        else:
            problems.append(f"{len(kept)} kept of one exact group: {group}")
    assert not problems, "\n".join(problems[:20])
    assert output.summary["removed_by_reason"]["exact"] >= sum(len(g) - 1 for g in groups_list) - 20


# ------------------------------------------------------------------ invariants on generated data

_WORDS = (
    "ngày bộ ngoại giao mỹ xác nhận trưởng sẽ hội đàm với các quan chức hàng đầu của trung quốc "
    "vào tuần tới tại thành phố hà nội người dân kinh tế chính phủ năm nay đã được cho biết theo "
    "công an xã huyện tỉnh trường học sinh viên bóng đá giải vô địch thế giới giá vàng tăng giảm "
    "hòa thủy khỏe quý lũy"
)
VOCAB = tuple(_WORDS.split())


@st.composite
def texts(draw: Any, min_words: int = 1, max_words: int = 60) -> str:
    words = draw(st.lists(st.sampled_from(VOCAB), min_size=min_words, max_size=max_words))
    breaks = draw(st.sets(st.integers(1, max(1, len(words) - 1)), max_size=4))
    out = []
    for i, word in enumerate(words):
        out.append(("\n" if i in breaks else " ") if i else "")
        out.append(word.capitalize() if i == 0 or i in breaks else word)
    return "".join(out) + draw(st.sampled_from(["", ".", "\n", " .\n\n"]))


CHROME_HEAD = ["", "Trang chủ > Thời sự > Xã hội\n", "![]() |\n"]
CHROME_TAIL = [
    "",
    "\nTin bài liên quan\nGiá vàng hôm nay tăng mạnh\nĐội tuyển thắng trận tối qua\n",
    "\n| Ảnh: AP |\nChia sẻ Facebook Twitter",
]
RESPELL = {"hòa": "hoà", "thủy": "thuỷ", "khỏe": "khoẻ", "lũy": "luỹ", "quý": "qúy"}


def respell(text: str, zero_width: bool) -> str:
    """Spelling-only variants the matching key documents as equal: tone placement, case,
    zero-width characters inside words."""
    words = [
        RESPELL.get(w, w).upper() if i % 3 == 0 else RESPELL.get(w, w)
        for i, w in enumerate(text.split(" "))
    ]
    if zero_width:
        words = [w[:1] + "\u200b" + w[1:] if len(w) > 2 else w for w in words]
    return " ".join(words)


@st.composite
def corpora(draw: Any) -> list[dict[str, Any]]:
    """A shuffled mixture of originals and their copies, ids unrelated to input order.

    ``family`` ties a document to its base when it is a copy the key must see as identical:
    ("strong", i) for exact, NFD and zero-width copies (identical once repaired, so even after
    cleaning), ("weak", i) for case/tone-placement respellings (identical keys without cleaning).
    """
    bases = draw(st.lists(texts(min_words=3), min_size=1, max_size=4))
    docs: list[tuple[str, tuple | None]] = [(b, ("strong", i)) for i, b in enumerate(bases)]
    for _ in range(draw(st.integers(0, 10))):
        b = draw(st.integers(0, len(bases) - 1))
        base = bases[b]
        words = base.split(" ")
        kind = draw(
            st.sampled_from(
                [
                    "exact",
                    "exact",
                    "edit",
                    "truncate",
                    "extend",
                    "nfd",
                    "zw",
                    "respell",
                    "chrome",
                    "punct",
                    "empty",
                    "blank",
                    "new",
                ]
            )
        )
        family = None
        if kind == "exact":
            text, family = base, ("strong", b)
        elif kind == "edit":
            for _ in range(draw(st.integers(1, 3))):
                i = draw(st.integers(0, len(words) - 1))
                words[i] = draw(st.sampled_from(VOCAB))
            text = " ".join(words)
        elif kind == "truncate":
            text = " ".join(words[: draw(st.integers(1, len(words)))])
        elif kind == "extend":
            text = base + "\n" + draw(texts(max_words=30))
        elif kind == "nfd":
            text, family = unicodedata.normalize("NFD", base), ("strong", b)
        elif kind == "zw":
            text, family = base.replace(" ", " \u200b", 3).replace("\n", "\u2060\n"), ("strong", b)
        elif kind == "respell":
            text, family = respell(base, draw(st.booleans())), ("weak", b)
        elif kind == "chrome":  # site furniture the cleaner is meant to drop
            text = draw(st.sampled_from(CHROME_HEAD)) + base + draw(st.sampled_from(CHROME_TAIL))
        elif kind == "punct":
            text = draw(st.sampled_from(["!!!", "... --- ...", "| |", "![]() |", "“”"]))
        elif kind == "empty":
            text = ""
        elif kind == "blank":
            text = " \n\t "
        else:
            text = draw(texts())
        docs.append((text, family))
    order = draw(st.permutations(range(len(docs))))
    names = draw(st.permutations(range(len(docs))))
    return [{"id": f"doc{names[i]:02d}", "text": docs[i][0], "family": docs[i][1]} for i in order]


@cache
def _cleaner() -> Cleaner:
    return Cleaner()


def matched_text(text: str, config: DedupConfig) -> str:
    """The text matching works on: repaired, then cleaned (if asked)."""
    repaired = repair_text(text)
    return _cleaner().clean(repaired).text if config.clean else repaired


def output_text(text: str, config: DedupConfig) -> str:
    """What the pipeline documents as the written text."""
    return text if config.output_text == "original" else matched_text(text, config)


def shingles(text: str, n: int) -> set[tuple[str, ...]]:
    """Word n-grams of the matching key, computed here without tinlap's hashing (a text shorter
    than n words is one shingle; an empty one has none)."""
    tokens = matching_key(text).split()
    if len(tokens) < n:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def policy_rank(rows: list[dict[str, str]], config: DedupConfig) -> dict[str, tuple]:
    """Keep-preference key per id, as documented for --keep (smaller = preferred)."""
    if config.keep_policy == "first":
        return {r["id"]: (i,) for i, r in enumerate(rows)}
    if config.keep_policy == "id":
        return {r["id"]: (r["id"],) for r in rows}
    cleaned = {r["id"]: repair_text(r["text"]) for r in rows}
    if config.clean:
        cleaned = {k: _cleaner().clean(v).text for k, v in cleaned.items()}
    return {k: (-len(v), k) for k, v in cleaned.items()}


# Corpus-learned boilerplate (lines recurring across a source's documents) makes the cleaned
# text depend on the whole corpus; the per-document oracles below only apply without it.
LEARNS = "learn_boilerplate" in DedupConfig.__dataclass_fields__
configs = st.builds(
    DedupConfig,
    **({"learn_boilerplate": st.booleans()} if LEARNS else {}),
    keep_policy=st.sampled_from(KEEP_POLICIES),
    clean=st.booleans(),
    shingle_size=st.sampled_from([1, 2, 3, 5]),
    jaccard_threshold=st.sampled_from([0.5, 0.8, 1.0]),
    containment_threshold=st.sampled_from([0.6, 0.9]),
    output_text=st.sampled_from(["cleaned", "original"]),
    batch_size=st.sampled_from([1, 3, 2000]),
    workers=st.just(1),
)

HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(rows=corpora(), config=configs)
def test_invariants_on_generated_corpora(rows: list[dict[str, str]], config: DedupConfig) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_jsonl(Path(tmp) / "in.jsonl", rows)
        out = Path(tmp) / "out"
        summary = run([corpus], out, **config.to_dict())
        output = load(out)
    check_invariants(output, [r["id"] for r in rows], config)
    assert summary == output.summary
    for reason, count in summary["removed_by_reason"].items():
        event(f"{reason} removals: {'some' if count else 'none'}")

    by_id = {r["id"]: r["text"] for r in rows}
    per_document = not config.clean or not getattr(config, "learn_boilerplate", False)
    # Kept documents carry their own text (no mix-up across batches).
    for doc_id, text in output.kept.items():
        if per_document or config.output_text == "original":
            assert text == output_text(by_id[doc_id], config), doc_id

    # Copies the key must see as identical end up in one cluster (unless none can be matched).
    families: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        if r["family"] is not None:
            strength, base = r["family"]
            if strength == "strong" or not config.clean:
                families[base].append(r["id"])
    for group in families.values():
        in_clusters = [output.row(i) for i in group]
        if len(group) > 1 and any(in_clusters):
            assert all(in_clusters), (group, in_clusters)
            assert len({r["cluster_id"] for r in in_clusters}) == 1, in_clusters

    # The keep policy: a cluster's kept document is its most preferred member.
    if per_document or config.keep_policy != "longest":
        rank = policy_rank(rows, config)
        for doc_id, row in output.removed.items():
            assert rank[row["duplicate_of"]] < rank[doc_id], (config.keep_policy, row)
    if not per_document:
        return

    # Scores are exact: recomputed here from plain word n-gram sets.
    for doc_id, row in output.removed.items():
        mine = shingles(matched_text(by_id[doc_id], config), config.shingle_size)
        theirs = shingles(matched_text(by_id[row["duplicate_of"]], config), config.shingle_size)
        common = len(mine & theirs)
        assert row["jaccard"] == pytest.approx(common / len(mine | theirs), abs=1e-12), row
        assert row["containment"] == pytest.approx(common / len(mine), abs=1e-12), row
        if row["reason"] == "exact":
            assert mine == theirs, row


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=corpora(), policy=st.sampled_from(KEEP_POLICIES), batch=st.sampled_from([2, 2000]))
def test_rerun_gives_byte_identical_outputs(
    rows: list[dict[str, str]], policy: str, batch: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = write_jsonl(Path(tmp) / "in.jsonl", rows)
        outs = [Path(tmp) / "a", Path(tmp) / "b"]
        for out in outs:
            run([corpus], out, keep_policy=policy, batch_size=batch)
        for name in ("clusters.parquet", "kept.jsonl"):
            assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
        # Rerunning into the same folder replaces the outputs with the same bytes.
        before = {n: (outs[0] / n).read_bytes() for n in ("clusters.parquet", "kept.jsonl")}
        run([corpus], outs[0], keep_policy=policy, batch_size=batch)
        assert before == {n: (outs[0] / n).read_bytes() for n in before}
        assert sorted(p.name for p in outs[0].iterdir()) == [
            ".tinlap-manifest.json",
            "clusters.parquet",
            "kept.jsonl",
            "problems.jsonl",
            "summary.json",
        ]


def test_workers_1_and_2_give_identical_outputs(tmp_path: Path, vntc_path: Path) -> None:
    rows = [dict(r) for r in vntc_head(vntc_path, 600)]
    rng = random.Random(3)
    for row in rng.sample(rows, 60):  # truncated and exact copies across batch borders
        words = row["text"].split(" ")
        rows.append(
            {**row, "id": row["id"] + "#cut", "text": " ".join(words[: len(words) * 2 // 3])}
        )
        rows.append({**row, "id": row["id"] + "#copy"})
    rng.shuffle(rows)
    corpus = write_jsonl(tmp_path / "in.jsonl", rows)
    one = run([corpus], tmp_path / "w1", workers=1, batch_size=64)
    two = run([corpus], tmp_path / "w2", workers=2, batch_size=64)
    for name in ("clusters.parquet", "kept.jsonl"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
    for summary in (one, two):
        for key in [k for k in summary if "seconds" in k]:  # timings
            del summary[key]
        del summary["config"]["workers"]
    assert one == two
    assert one["documents_removed"] >= 100
    check_invariants(load(tmp_path / "w2"), [r["id"] for r in rows], DedupConfig())


# --------------------------------------------------------------------------------- keep policies


@pytest.mark.parametrize(("policy", "kept"), [("first", "c"), ("id", "a"), ("longest", "a")])
def test_keep_policy_on_exact_copies(tmp_path: Path, policy: str, kept: str) -> None:
    """Three identical texts in input order c, a, b: first keeps c, id and longest (tie) keep a."""
    text = "Giá vàng hôm nay tăng mạnh sau khi thị trường thế giới biến động trong tuần qua."
    other = "Đội tuyển bóng đá Việt Nam giành chiến thắng trong trận đấu tối qua tại Mỹ Đình."
    rows = [{"id": i, "text": text} for i in "cab"] + [{"id": "z", "text": other}]
    corpus = write_jsonl(tmp_path / "in.jsonl", rows)
    run([corpus], tmp_path / "out", keep_policy=policy, clean=False)
    output = load(tmp_path / "out")
    assert set(output.kept) == {kept, "z"}
    assert output.cluster_of(kept) == ["a", "b", "c"]
    assert all(
        r["reason"] == "exact" and r["duplicate_of"] == kept for r in output.removed.values()
    )


@pytest.mark.parametrize(
    ("policy", "kept"), [("first", "b-short"), ("id", "a-long"), ("longest", "a-long")]
)
def test_keep_policy_on_contained_copy(tmp_path: Path, policy: str, kept: str) -> None:
    """A short text inside a longer one: only the contained (short) one may ever be removed."""
    rng = random.Random(1)
    long_words = [rng.choice(VOCAB) for _ in range(120)]
    long_text = " ".join(long_words)
    short_text = " ".join(long_words[:50])
    rows = [{"id": "b-short", "text": short_text}, {"id": "a-long", "text": long_text}]
    corpus = write_jsonl(tmp_path / "in.jsonl", rows)
    run([corpus], tmp_path / "out", keep_policy=policy, clean=False)
    output = load(tmp_path / "out")
    if kept == "a-long":
        assert set(output.kept) == {"a-long"}
        row = output.removed["b-short"]
        assert row["reason"] == "contained" and row["containment"] == 1.0, row
        assert row["jaccard"] < 0.5
    else:
        # "first" prefers the short one, and the longer text is not a copy of it: both stay.
        assert set(output.kept) == {"a-long", "b-short"}
        assert output.clusters == []


# ------------------------------------------------------------- regression: found by these tests


def test_many_copies_of_a_story_keep_their_text(
    tmp_path: Path, seeds_dir: Path, vntc_path: Path
) -> None:
    story = seed_texts(seeds_dir)[SEED_CLEAN]
    rows = [{"id": r["id"], "text": r["text"], "source": "site"} for r in vntc_head(vntc_path, 150)]
    for i in range(6):  # the same article reached through six URLs
        rows.insert(i * 25, {"id": f"copy{i}", "text": story, "source": "site"})
    run([write_jsonl(tmp_path / "in.jsonl", rows)], tmp_path / "out")
    output = load(tmp_path / "out")
    copies = [f"copy{i}" for i in range(6)]
    kept = [c for c in copies if c in output.kept]
    assert len(kept) == 1
    assert all(output.removed[c]["reason"] == "exact" for c in copies if c not in kept)
    paragraphs = [p for p in repair_text(story).split("\n") if len(p.split()) >= 20]
    assert len(paragraphs) >= 6
    missing = [p[:60] for p in paragraphs if p not in output.kept[kept[0]]]
    assert not missing, f"{len(missing)} of {len(paragraphs)} paragraphs lost: {missing}"
