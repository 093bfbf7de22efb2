"""Every input document is accounted for, whatever the input format (issue 13, property test).

Hypothesis writes a random small corpus (copies, near copies, empty texts, repeated ids, broken
records) as JSONL, Parquet, a .txt folder or CSV, runs dedup, and checks that each record is
either a document (kept, or removed in clusters.parquet: ``documents_read = kept + removed``)
or a counted input error, never lost. Ids stay plain here: escaping ids that cannot be file
names is tested with the txt output (tests/test_write.py).
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from helpers import check_invariants, load, run, write_jsonl, write_txt_folder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinlap.config import DedupConfig
from tinlap.engines.sharded import ShardedOptions, run_sharded
from tinlap.records import ProblemLog

WORDS = (  # noqa: SIM905
    "giá vàng hôm nay tăng mạnh thị trường thế giới biến động đội tuyển bóng đá Việt Nam "
    "giành chiến thắng sân vận động Mỹ Đình khán giả Bộ Giáo dục công bố phương án tuyển sinh"
).split()

texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=40).map(" ".join)


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list[str], list[str], int]:
    """(ids, texts, broken records): some texts repeated or cut, some ids repeated."""
    base = draw(st.lists(texts, min_size=1, max_size=12))
    docs = []
    for text in base:
        docs.append(text)
        copies = draw(st.integers(0, 2))
        docs += [text if draw(st.booleans()) else text[: len(text) * 3 // 4] for _ in range(copies)]
    ids = [f"d{draw(st.integers(0, len(docs) + 3))}" for _ in docs]  # repeats become id#2
    return ids, docs, draw(st.integers(0, 3))


def _write(folder: Path, fmt: str, ids: list[str], docs: list[str], broken: int) -> Path:
    rows = [{"id": i, "text": t} for i, t in zip(ids, docs, strict=True)]
    if fmt == "jsonl":
        path = write_jsonl(folder / "in.jsonl", rows)
        with path.open("ab") as fh:
            fh.write(b'{"id": "broken", "text": \n' * broken)  # malformed: input errors
        return path
    if fmt == "parquet":
        path = folder / "in.parquet"
        texts = [*docs, *[None] * broken]  # a null text: an input error
        pq.write_table(pa.table({"id": ids + ["n"] * broken, "text": texts}), path)
        return path
    if fmt == "csv":
        path = folder / "in.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "text"])
            writer.writerows(zip(ids, docs, strict=True))
            for _ in range(broken):
                fh.write("ragged,row,with,too,many\r\n")
        return path
    # txt: one file per document; ids are file names, so they are unique already
    return write_txt_folder(folder / "in", {f"{n:03d}.txt": t for n, t in enumerate(docs)})


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(
    corpus=corpora(),
    fmt=st.sampled_from(["jsonl", "parquet", "txt", "csv"]),
    keep_policy=st.sampled_from(["longest", "first", "id"]),
)
def test_every_input_document_is_accounted_for(
    corpus: tuple[list[str], list[str], int], fmt: str, keep_policy: str
) -> None:
    _check_accounting(corpus, fmt, keep_policy, sharded=False)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    corpus=corpora(),
    fmt=st.sampled_from(["jsonl", "parquet", "txt", "csv"]),
    keep_policy=st.sampled_from(["longest", "first", "id"]),
)
def test_every_input_document_is_accounted_for_sharded(
    corpus: tuple[list[str], list[str], int], fmt: str, keep_policy: str
) -> None:
    """The same with the default (sharded) engine, its stages run in this process."""
    _check_accounting(corpus, fmt, keep_policy, sharded=True)


def _check_accounting(
    corpus: tuple[list[str], list[str], int], fmt: str, keep_policy: str, *, sharded: bool
) -> None:
    ids, docs, broken = corpus
    broken = 0 if fmt == "txt" else broken
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = _write(folder, fmt, ids, docs, broken)
        problems = ProblemLog()
        if sharded:
            config = DedupConfig(keep_policy=keep_policy, workers=1)
            options = ShardedOptions(executor="local")
            summary = run_sharded(
                [str(source)], folder / "out", config, options, quiet=True, problems=problems
            )
        else:
            summary = run([source], folder / "out", keep_policy=keep_policy, problems=problems)
        output = load(folder / "out")
        assert summary["documents_read"] == len(docs)
        assert summary["documents_read"] == summary["documents_kept"] + summary["documents_removed"]
        assert problems.n_errors == broken  # each broken record counted, none silently lost
        if fmt == "txt":
            input_ids = [f"{n:03d}.txt" for n in range(len(docs))]
        else:  # repeated ids are renamed id#2, id#3... in input order, as read_all does
            seen: dict[str, int] = {}
            input_ids = []
            for doc_id in ids:
                seen[doc_id] = seen.get(doc_id, 0) + 1
                input_ids.append(doc_id if seen[doc_id] == 1 else f"{doc_id}#{seen[doc_id]}")
        check_invariants(output, input_ids, DedupConfig(keep_policy=keep_policy))
