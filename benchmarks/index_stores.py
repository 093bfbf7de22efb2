"""Which embedded store should hold the incremental index: SQLite (WAL) or LMDB?

Both get the same workload, shaped like the index's: every document brings 64 band keys
(bucket key -> document number, a multimap) and one blob (its sorted 64-bit shingle hashes,
~460 of them for a VNTC article). A query looks up 64 keys, at most ``cap`` members each, and
fetches the blobs of the members found. Documents are added in transactions of ``--batch``
(one transaction per add, as the index does). A tenth of the documents are "copies": they
share half their band keys and their blob size with an earlier document, so queries find
candidates as real ones do.

    .venv/bin/python benchmarks/index_stores.py --docs 100000

Prints a Markdown table (add docs/s, query p50/p99 in ms, size on disk); the numbers behind
the choice in benchmarks/results/index-*.md. Needs the ``lmdb`` package (not a tinlap
dependency).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

BANDS = 64


def workload(n: int, seed: int = 1) -> Iterator[tuple[np.ndarray, bytes]]:
    """(band keys as int64, shingle blob) per document, deterministic."""
    rng = np.random.default_rng(seed)
    keys = np.zeros((n, BANDS), dtype=np.int64)
    sizes = np.clip(rng.lognormal(6.0, 0.6, n).astype(np.int64), 5, 5000)
    for i in range(n):
        row = rng.integers(-(2**63), 2**63 - 1, BANDS, dtype=np.int64)
        if i > 10 and rng.random() < 0.1:
            j = int(rng.integers(0, i))
            row[::2] = keys[j, ::2]
            sizes[i] = sizes[j]
        keys[i] = row
        yield row, rng.integers(0, 2**63 - 1, int(sizes[i]), dtype=np.int64).tobytes()


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path / "index.sqlite", isolation_level=None)
        self.db.executescript(
            """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;
            CREATE TABLE IF NOT EXISTS docs(seq INTEGER PRIMARY KEY, shingles BLOB);
            CREATE TABLE IF NOT EXISTS buckets(key INTEGER, seq INTEGER,
                PRIMARY KEY(key, seq)) WITHOUT ROWID;
            """
        )
        self.files = [path / "index.sqlite"]

    def add(self, first: int, docs: list[tuple[np.ndarray, bytes]]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(
            "INSERT INTO docs VALUES (?, ?)", ((first + i, d[1]) for i, d in enumerate(docs))
        )
        rows = sorted((k, first + i) for i, d in enumerate(docs) for k in d[0].tolist())
        self.db.executemany("INSERT OR IGNORE INTO buckets VALUES (?, ?)", rows)
        self.db.execute("COMMIT")

    def query(self, keys: np.ndarray, cap: int) -> list[bytes]:
        sql = " UNION ".join(
            [f"SELECT * FROM (SELECT seq FROM buckets WHERE key = ? LIMIT {cap})"] * len(keys)
        )
        seqs = [s for (s,) in self.db.execute(sql, keys.tolist())]
        marks = ",".join("?" * len(seqs))
        return [
            b for (b,) in self.db.execute(f"SELECT shingles FROM docs WHERE seq IN ({marks})", seqs)
        ]

    def close(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()


class LmdbStore:
    def __init__(self, path: Path) -> None:
        import lmdb

        self.env = lmdb.open(str(path / "lmdb"), map_size=64 << 30, max_dbs=2, sync=True)
        self.docs = self.env.open_db(b"docs", integerkey=True)
        self.buckets = self.env.open_db(b"buckets", dupsort=True, dupfixed=True)
        self.files = [path / "lmdb" / "data.mdb"]

    def add(self, first: int, docs: list[tuple[np.ndarray, bytes]]) -> None:
        with self.env.begin(write=True) as txn:
            for i, (keys, blob) in enumerate(docs):
                seq = (first + i).to_bytes(8, "big")
                txn.put(seq, blob, db=self.docs)
                cursor = txn.cursor(self.buckets)
                cursor.putmulti(((k.tobytes(), seq) for k in keys), dupdata=True)

    def query(self, keys: np.ndarray, cap: int) -> list[bytes]:
        found: set[bytes] = set()
        with self.env.begin() as txn:
            cursor = txn.cursor(self.buckets)
            for k in keys:
                if cursor.set_key(k.tobytes()):
                    for n, seq in enumerate(cursor.iternext_dup()):
                        if n >= cap:
                            break
                        found.add(seq)
            return [bytes(txn.get(s, db=self.docs)) for s in sorted(found)]

    def close(self) -> None:
        self.env.close()


def run(kind: str, n: int, batch: int, queries: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix=f"stores-{kind}-"))
    try:
        store = SqliteStore(folder) if kind == "sqlite" else LmdbStore(folder)
        docs = list(workload(n))  # generated before the clock starts
        sample = [keys for keys, _ in docs[:: max(1, n // queries)]]
        start = time.perf_counter()
        for first in range(0, n, batch):
            store.add(first, docs[first : first + batch])
        add_s = time.perf_counter() - start
        del docs
        latencies = []
        found = 0
        for keys in sample[:queries]:
            t = time.perf_counter()
            found += len(store.query(keys, 200))
            latencies.append(time.perf_counter() - t)
        store.close()
        size = sum(f.stat().st_size for f in store.files if f.exists())
        ms = np.array(latencies) * 1e3
        return {
            "add_docs_per_s": n / add_s,
            "query_p50_ms": float(np.percentile(ms, 50)),
            "query_p99_ms": float(np.percentile(ms, 99)),
            "blobs_per_query": found / len(latencies),
            "size_mb": size / 2**20,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    print(f"{args.docs:,} documents, transactions of {args.batch}, {args.queries} queries\n")
    print("| store | add docs/s | query p50 ms | query p99 ms | blobs/query | size MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("sqlite", "lmdb"):
        r = run(kind, args.docs, args.batch, args.queries)
        print(
            f"| {kind} | {r['add_docs_per_s']:,.0f} | {r['query_p50_ms']:.3f} | "
            f"{r['query_p99_ms']:.3f} | {r['blobs_per_query']:.1f} | {r['size_mb']:,.0f} |"
        )


if __name__ == "__main__":
    main()
