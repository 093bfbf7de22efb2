"""Incremental index benchmark: add throughput, query latency (Python API and HTTP), size.

    .venv/bin/python benchmarks/index_bench.py --docs 100000          # ~10 min on 2 cores
    .venv/bin/python benchmarks/index_bench.py --docs 1000000 --keep  # hours; keeps the index

Documents are *amplified VNTC*: document i is VNTC article i mod 84,132 with about a third of
its words replaced by words drawn from the corpus (seeded by i), so every document is distinct
(siblings of one article share ~7% of their 5-grams: the background overlap real news has) and
texts keep VNTC's length, vocabulary and paragraph structure.

1. add: the documents go in through ``Index.add_records`` in adds of ``--batch`` (one
   transaction each), timed per add, so the table shows how throughput changes with size.
2. Python API: ``Index.check`` on one text at a time, single thread; half the queries are new
   documents, half copies of indexed ones (exact, or the first/last paragraph trimmed).
3. HTTP: ``tinlap serve`` in its own process on 127.0.0.1, driven by an asyncio load generator
   (a minimal HTTP/1.1 client: httpx costs more CPU than the server) with ``--clients``
   concurrent connections: first closed-loop (each client sends its next request when the
   last is answered: the maximum rate), then open-loop at ``--rates`` requests/s (latency
   counted from each request's scheduled send time, so queueing is included). Every run is
   bounded in requests and seconds.

Writes ``benchmarks/results/index-<date>.md`` and ``.json``. With ``--compare-stores N`` it
first runs ``index_stores.py``'s SQLite-vs-LMDB comparison at N documents.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import zstandard

from tinlap import __version__
from tinlap.engines.indexing import add_records
from tinlap.index.store import Index, IndexSettings
from tinlap.records import Record

HERE = Path(__file__).resolve().parent
VNTC = HERE.parent.parent / "shared" / "data" / "vntc.jsonl.zst"
TOKEN = "index-bench-token-0123456789abcdef"  # the server wants >= 16 characters


# ------------------------------------------------------------------------------------ corpus


class Amplifier:
    """Deterministic distinct documents from VNTC articles (see the module docstring)."""

    def __init__(self, path: Path, replace: float = 0.33) -> None:
        self.bases: list[str] = []
        with path.open("rb") as fh:
            reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh), 1 << 20)
            self.bases = [orjson.loads(line)["text"] for line in reader]
        rng = np.random.default_rng(0)
        sample = [w for i in rng.integers(0, len(self.bases), 3000) for w in self.bases[i].split()]
        self.vocabulary = np.array(sample, dtype=object)
        self.replace = replace
        gc.freeze()  # a quarter of a GB of strings: keep them out of every collection

    def text(self, i: int) -> str:
        rng = np.random.default_rng(i)
        out = []
        for paragraph in self.bases[i % len(self.bases)].split("\n"):
            w = np.array(paragraph.split(), dtype=object)
            if len(w) == 0:
                continue
            hit = rng.random(len(w)) < self.replace
            w[hit] = self.vocabulary[rng.integers(0, len(self.vocabulary), int(hit.sum()))]
            out.append(" ".join(w))
        return "\n".join(out)

    def copy_of(self, i: int, variant: int) -> str:
        """Indexed document i again: exact (variant 0) or with its first/last paragraph cut."""
        paragraphs = self.text(i).split("\n")
        if variant == 0 or len(paragraphs) < 4:
            return "\n".join(paragraphs)
        return "\n".join(paragraphs[1:] if variant == 1 else paragraphs[:-1])


def queries(amp: Amplifier, n_docs: int, count: int) -> list[tuple[str, str]]:
    """(kind, text): alternately a new document and a copy of an indexed one."""
    rng = np.random.default_rng(7)
    out = []
    for q in range(count):
        if q % 2:
            out.append(("new", amp.text(n_docs + 10_000_000 + q)))
        else:
            out.append(("copy", amp.copy_of(int(rng.integers(0, n_docs)), q % 3)))
    return out


# --------------------------------------------------------------------------------------- add


def build(
    folder: Path, amp: Amplifier, n: int, batch: int, workers: int = 1
) -> list[dict[str, float]]:
    Index.create(folder, IndexSettings()).close()
    segments = []
    with Index(folder) as index:
        for start in range(0, n, batch):
            stop = min(n, start + batch)
            records = [Record(f"doc-{i}", amp.text(i), "") for i in range(start, stop)]
            clock = time.perf_counter()
            cpu = time.process_time()
            duplicates = sum(v.duplicate for v in add_records(index, records, workers))
            wall = time.perf_counter() - clock
            segments.append(
                {
                    "indexed_before": start,
                    "docs": stop - start,
                    "seconds": wall,
                    "cpu_seconds": time.process_time() - cpu,
                    "docs_per_s": (stop - start) / wall,
                    "duplicates": duplicates,
                }
            )
            print(
                f"  add {start:>9,}..{stop:>9,}: {segments[-1]['docs_per_s']:7.0f} docs/s, "
                f"{duplicates} duplicates",
                flush=True,
            )
    return segments


# -------------------------------------------------------------------------------- Python API


def api_latency(folder: Path, qs: list[tuple[str, str]]) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"new": [], "copy": []}
    found = {"new": 0, "copy": 0}
    with Index(folder) as index:
        for _, text in qs[:20]:  # warm the tokeniser cache and the page cache
            index.check([text])
        cpu = time.process_time()
        for kind, text in qs:
            clock = time.perf_counter()
            verdict = index.check([text])[0]
            latencies[kind].append(time.perf_counter() - clock)
            found[kind] += verdict.duplicate
        cpu = time.process_time() - cpu
    every = latencies["new"] + latencies["copy"]
    return {
        "queries": len(every),
        "cpu_ms_per_check": cpu / len(every) * 1e3,
        **_percentiles(every),
        "checks_per_s_one_thread": len(every) / sum(every),
        "new_flagged_duplicate": found["new"],
        "copies_found": found["copy"],
        "copies": len(latencies["copy"]),
    }


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1e3
    return {f"p{p}_ms": float(np.percentile(ms, p)) for p in (50, 90, 99)} | {
        "max_ms": float(ms.max())
    }


# -------------------------------------------------------------------------------------- HTTP


def _tree_cpu(session: int) -> float:
    """CPU seconds (user + sys) of every live process in a session: the server and its workers."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _measured(port: int, session: int, *load: Any) -> dict[str, Any]:
    """One load run, with the CPU it cost the server and the generator per request."""
    server, client = _tree_cpu(session), time.process_time()
    result = asyncio.run(_load(port, *load))
    n = max(result["requests"], 1)
    result["server_cpu_ms_per_request"] = (_tree_cpu(session) - server) / n * 1e3
    result["client_cpu_ms_per_request"] = (time.process_time() - client) / n * 1e3
    return result


def start_server(
    folder: Path, port: int, workers: int, cpus: set[int] | None = None
) -> subprocess.Popen[bytes]:
    """``tinlap serve`` in its own session; on ``cpus`` only when given (``taskset``)."""
    env = {**os.environ, "TINLAP_TOKEN": TOKEN}
    tinlap = Path(sys.executable).with_name("tinlap")
    cmd = [str(tinlap), "serve", str(folder), "--port", str(port), "--workers", str(workers)]
    if cpus is not None:
        cmd = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *cmd]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    raise RuntimeError("the server did not come up")


class _Connection:
    """A minimal keep-alive HTTP/1.1 client for the load generator.

    httpx costs ~4 ms of CPU per request here, more than the server spends answering it; on a
    2-core machine the generator would measure itself. This one costs a few tens of µs.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def _load(
    port: int, bodies: list[bytes], requests: int, clients: int, rate: float | None, max_s: float
) -> dict[str, Any]:
    """Closed loop (rate None) or open loop at ``rate``/s, over ``clients`` connections:
    ``requests`` requests (cycling through ``bodies``) or ``max_s`` seconds, what comes first."""
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    next_index = 0

    async def worker() -> None:
        nonlocal next_index, errors
        connection = _Connection(port)
        try:
            while next_index < requests and time.perf_counter() - start < max_s:
                k = next_index
                next_index += 1
                due = start + k / rate if rate else time.perf_counter()
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if await connection.post("/check", bodies[k % len(bodies)]) != 200:
                    errors += 1
                latencies.append(time.perf_counter() - due)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return {
        "clients": clients,
        "target_rate": rate,
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "checks_per_s": len(latencies) / elapsed,
        **_percentiles(latencies),
    }


def http_load(
    folder: Path,
    qs: list[tuple[str, str]],
    requests: int,
    clients: int,
    rates: list[float],
    workers: int,
    max_s: float,
    pin: bool = False,
) -> dict[str, Any]:
    """``pin``: with one server worker, the server runs on the last CPU and this process (the
    load generator) on the others, so the two do not compete for a core."""
    port = 18000 + os.getpid() % 1000
    cpus = sorted(os.sched_getaffinity(0))
    pinned = pin and workers == 1 and len(cpus) > 1
    server_cpus = {cpus[-1]} if pinned else None
    if pinned:
        os.sched_setaffinity(0, set(cpus[:-1]))
    proc = start_server(folder, port, workers, server_cpus)
    try:
        bodies = [orjson.dumps({"text": text}) for _, text in qs]
        asyncio.run(_load(port, bodies, 200, 10, None, 30))  # warm up
        closed = _measured(port, proc.pid, bodies, requests, clients, None, max_s)
        opened = [_measured(port, proc.pid, bodies, requests, clients, r, max_s) for r in rates]
        return {
            "server_workers": workers,
            "pinned": pinned,
            "closed_loop": closed,
            "open_loop": opened,
        }
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        os.sched_setaffinity(0, set(cpus))


# ----------------------------------------------------------------------------------- report


def _settings_line() -> str:
    d = IndexSettings()
    return (
        f"{d.shingle_size}-word shingles, {d.num_perm} MinHash values, {d.bands} bands x "
        f"{d.rows} rows, containment {d.containment_threshold}, Jaccard {d.jaccard_threshold}"
    )


def report(results: dict[str, Any], out: Path) -> None:
    r = results
    seg = r["add_segments"]
    lines = [
        f"# Incremental index benchmark, {r['date']}",
        "",
        f"tinlap {r['tinlap_version']}; {r['machine']}. Index: {r['docs']:,} amplified VNTC "
        f"documents (`benchmarks/index_bench.py --docs {r['docs']}`), default settings "
        f"({_settings_line()}), added in transactions of {r['batch']:,}. One process decides "
        f"and writes, {r.get('add_workers', 1)} sketch; everything on this machine. "
        f"Load average at the end: {r['load_average_at_end']:.1f}.",
        "",
        "## Add",
        "",
        f"- overall: **{r['add_docs_per_s']:,.0f} docs/s** ({r['add_seconds']:,.0f} s for "
        f"{r['docs']:,} documents, single writer, sketching included)",
        f"- index size on disk: **{r['bytes_on_disk'] / 2**20:,.0f} MB** "
        f"({r['bytes_on_disk'] / r['docs']:,.0f} bytes/document)",
        "",
        "| indexed before the add | docs/s | CPU share |",
        "|---:|---:|---:|",
    ]
    step = max(1, len(seg) // 10)
    for s in seg[::step] + ([seg[-1]] if (len(seg) - 1) % step else []):
        lines.append(
            f"| {s['indexed_before']:,} | {s['docs_per_s']:,.0f} | "
            f"{s['cpu_seconds'] / s['seconds']:.0%} |"
        )
    api = r["api"]
    lines += [
        "",
        "## Query, Python API (`Index.check`, one text per call, one thread)",
        "",
        f"{api['queries']:,} queries, half new documents, half copies of indexed ones: "
        f"p50 **{api['p50_ms']:.2f} ms**, p90 {api['p90_ms']:.2f} ms, p99 "
        f"**{api['p99_ms']:.2f} ms**, max {api['max_ms']:.1f} ms; "
        f"{api['checks_per_s_one_thread']:,.0f} checks/s on one thread, "
        f"{api['cpu_ms_per_check']:.2f} ms of CPU per check. Copies found: "
        f"{api['copies_found']} of {api['copies']}; new documents flagged: "
        f"{api['new_flagged_duplicate']}.",
    ]
    for http in r.get("http", []):
        c = http["closed_loop"]
        lines += [
            "",
            f"## Query over HTTP (`POST /check`, {http['server_workers']} uvicorn worker(s), "
            f"{c['clients']} concurrent clients on 127.0.0.1"
            + ("; server and load generator on CPUs of their own" if http.get("pinned") else "")
            + ")",
            "",
            "| load | requests | errors | checks/s | p50 ms | p90 ms | p99 ms | max ms "
            "| server CPU ms/req | client CPU ms/req |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        named = [("closed loop (max rate)", c)]
        named += [(f"open loop at {o['target_rate']:g}/s", o) for o in http["open_loop"]]
        for name, x in named:
            lines.append(
                f"| {name} | {x['requests']:,} | {x['errors']} | {x['checks_per_s']:,.0f} | "
                f"{x['p50_ms']:.1f} | {x['p90_ms']:.1f} | {x['p99_ms']:.1f} | {x['max_ms']:.0f} "
                f"| {x['server_cpu_ms_per_request']:.2f} | {x['client_cpu_ms_per_request']:.2f} |"
            )
    if "stores" in r:
        lines += ["", "## Store choice: SQLite vs LMDB (`benchmarks/index_stores.py`)", ""]
        lines += r["stores"]
    lines += ["", "## Notes", "", *r.get("notes", [])]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000, help="documents per add")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rates", default="300,500", help="open-loop requests/s to try")
    parser.add_argument("--http-requests", type=int, default=15_000, help="per load run")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="one-worker server on its own CPU, the load generator on the others (taskset)",
    )
    parser.add_argument("--add-workers", type=int, default=1, help="index add -j while building")
    parser.add_argument("--http-seconds", type=float, default=30.0)
    parser.add_argument("--compare-stores", type=int, default=0, metavar="N")
    parser.add_argument("--dir", type=Path, default=None, help="index folder (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the index folder")
    parser.add_argument("--reuse", action="store_true", help="use an existing index in --dir")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--note", action="append", default=[], help="a line for Notes")
    args = parser.parse_args()

    date = time.strftime("%Y-%m-%d")
    out = args.out or HERE / "results" / f"index-{date}"
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "tinlap_version": __version__,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}; "
        f"load average at start {os.getloadavg()[0]:.1f} (the machine is shared)",
        "docs": args.docs,
        "batch": args.batch,
        "notes": args.note,
    }
    if args.compare_stores:
        import index_stores

        print(f"store comparison at {args.compare_stores:,} documents", flush=True)
        table = [
            f"{args.compare_stores:,} synthetic documents (64 band keys + a ~460-hash blob each), "
            "adds of 1,000 per transaction, 2,000 queries (64 lookups + blob fetches each):",
            "",
            "| store | add docs/s | query p50 ms | query p99 ms | blobs/query | size MB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for kind in ("sqlite", "lmdb"):
            s = index_stores.run(kind, args.compare_stores, 1000, 2000)
            table.append(
                f"| {kind} | {s['add_docs_per_s']:,.0f} | {s['query_p50_ms']:.3f} | "
                f"{s['query_p99_ms']:.3f} | {s['blobs_per_query']:.1f} | {s['size_mb']:,.0f} |"
            )
        results["stores"] = table
        print("\n".join(table), flush=True)

    folder = args.dir or Path(tempfile.mkdtemp(prefix="tinlap-index-bench-")) / "index"
    print("reading VNTC", flush=True)
    amp = Amplifier(VNTC)
    try:
        if args.reuse:  # queries again on an index built before: keep that run's add figures
            before = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
            for key in ("add_segments", "add_seconds", "add_docs_per_s", "batch"):
                results[key] = before[key]
            if "stores" in before:
                results.setdefault("stores", before["stores"])
        else:
            print(f"adding {args.docs:,} documents", flush=True)
            clock = time.perf_counter()
            results["add_segments"] = build(folder, amp, args.docs, args.batch, args.add_workers)
            results["add_workers"] = args.add_workers
            results["add_seconds"] = time.perf_counter() - clock
            results["add_docs_per_s"] = args.docs / sum(
                s["seconds"] for s in results["add_segments"]
            )
        with Index(folder) as index:
            results["bytes_on_disk"] = index.stats()["bytes_on_disk"]
        qs = queries(amp, args.docs, args.queries)
        print("Python API queries", flush=True)
        results["api"] = api_latency(folder, qs)
        print(json.dumps(results["api"]), flush=True)
        results["http"] = []
        for workers in (int(w) for w in args.workers.split(",") if w):
            print(f"HTTP, {workers} worker(s)", flush=True)
            rates = [float(r) for r in args.rates.split(",") if r]
            http = http_load(
                folder,
                qs,
                args.http_requests,
                args.clients,
                rates,
                workers,
                args.http_seconds,
                args.pin,
            )
            print(json.dumps(http), flush=True)
            results["http"].append(http)
        results["load_average_at_end"] = os.getloadavg()[0]
        report(results, out)
        print(f"wrote {out}.md", flush=True)
    finally:
        if not (args.keep or args.dir):
            shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
