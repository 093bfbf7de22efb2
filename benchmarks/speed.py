"""Speed benchmark: tinlap against datatrove and text-dedup, plus the floor, in one run.

The machines are shared and noisy, so absolute seconds drift from run to run; what we
report and hold targets on are ratios between tools measured back to back, one at a time,
on the same machine and the same input. Each tool runs as a child process; its CPU time
(user + sys of its whole process tree) and peak memory are measured by benchmarks/measure_child.py.
"docs/s per core" is documents / CPU-seconds, so tools that use more cores gain nothing.

    bash benchmarks/competitors/setup.sh          # once: the competitors' own venvs
    .venv/bin/python benchmarks/speed.py           # full corpus, all four
    .venv/bin/python benchmarks/speed.py --limit 20000 --only floor,tinlap

Writes benchmarks/results/speed-<date>-<scope>.{md,json} and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from measure_child import Measurement, fresh_workdir, machine_info, run_measured, tail

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ENVS = HERE / ".envs"
WORK = HERE / ".work"
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "vntc.jsonl.zst"
TOOLS = ("floor", "floor-nfc", "tinlap", "datatrove", "textdedup")

# Project targets, as tinlap's docs/s per core divided by the other's (floor: the reverse).
TARGETS = {"datatrove": 5.0, "textdedup": 2.0, "floor_max_slowdown": 3.0, "rss_mb": 2048.0}


@dataclass
class Result:
    """One tool's row in the table."""

    tool: str
    version: str | None = None
    docs_in: int | None = None
    docs_removed: int | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mb: float | None = None
    conversion_s: float | None = None
    note: str = ""
    error: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def docs_per_core_s(self) -> float | None:
        if self.error or not self.docs_in or not self.cpu_s:
            return None
        return self.docs_in / self.cpu_s


# ---------------------------------------------------------------- input


def iter_lines(path: Path) -> Iterator[bytes]:
    """Lines of .jsonl / .jsonl.zst / .jsonl.gz, streamed."""
    if path.suffix == ".zst":
        import zstandard

        with open(path, "rb") as raw:
            yield from io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw))
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            yield from f
    else:
        with open(path, "rb") as f:
            yield from f


def count_docs(path: Path) -> int:
    return sum(1 for line in iter_lines(path) if line.strip())


def make_subset(src: Path, limit: int) -> Path:
    """First `limit` documents of src as a .jsonl.zst in .work/, written once and reused."""
    import zstandard

    dst = WORK / f"{src.name.split('.')[0]}-first{limit}.jsonl.zst"
    if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    n = 0
    with open(tmp, "wb") as out:
        writer = zstandard.ZstdCompressor(level=3).stream_writer(out)
        for line in iter_lines(src):
            if not line.strip():
                continue
            if n >= limit:
                break
            writer.write(line if line.endswith(b"\n") else line + b"\n")
            n += 1
        writer.close()
    tmp.rename(dst)
    return dst


# ---------------------------------------------------------------- counting output


def count_records(path: Path) -> tuple[int, list[str]]:
    """Documents in tinlap's output, be it one file or a directory of them.

    Best effort while the CLI's output layout settles: in a directory, files whose names
    say they hold removed documents, reports or clusters are not counted.
    """
    skip = ("removed", "dup", "report", "problem", "cluster", "log", "stat", "manifest")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    n, used = 0, []
    for p in files:
        name = p.name.lower()
        if path.is_dir() and any(s in name for s in skip):
            continue
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            n += pq.ParquetFile(p).metadata.num_rows
        elif any(name.endswith(s) for s in (".jsonl", ".jsonl.zst", ".jsonl.gz")):
            n += count_docs(p)
        else:
            continue
        used.append(str(p.relative_to(path.parent)))
    return n, used


def read_summary(out: Path) -> dict[str, Any] | None:
    """tinlap's <output>/summary.json, if it wrote one."""
    try:
        obj = json.loads((out / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


def last_json_line(path: str) -> dict[str, Any] | None:
    """The last line of a log that parses as a JSON object (our runners print one)."""
    for line in reversed(tail(path, 1_000_000).splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                return obj
    return None


def _from_measurement(res: Result, m: Measurement) -> None:
    res.wall_s, res.cpu_s, res.peak_rss_mb = m.wall_s, m.cpu_s, m.peak_rss_mb
    res.raw["measurement"] = m.to_dict()
    if m.returncode != 0:
        res.error = f"exit {m.returncode}: {tail(m.stderr_path, 1500).strip()}"


# ---------------------------------------------------------------- the four runs


def run_floor(input_path: Path, rundir: Path, key: str) -> Result:
    """floor: tinlap's matching key (the target's yardstick); floor-nfc: NFC + casefold."""
    name = "floor" if key == "tinlap" else "floor-nfc"
    res = Result(tool=name, note="read + normalise + split")
    cmd = [sys.executable, str(HERE / "floor.py"), str(input_path), "--key", key]
    m = run_measured(cmd, log_dir=rundir, name=name)
    _from_measurement(res, m)
    out = last_json_line(m.stdout_path)
    if out:
        res.docs_in = out.get("docs_in")
        res.docs_removed = 0
        res.note = f"read + {out.get('normaliser')} + split"
        res.raw["output"] = out
    return res


def find_tinlap() -> str | None:
    local = REPO / ".venv" / "bin" / "tinlap"
    if local.exists():
        return str(local)
    return shutil.which("tinlap")


def run_tinlap(
    input_path: Path, rundir: Path, workers: int, docs_in: int, extra: list[str]
) -> Result:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tinlap_version: str | None = version("tinlap")
    except PackageNotFoundError:
        tinlap_version = None
    res = Result(tool="tinlap", version=tinlap_version, docs_in=docs_in)
    res.settings = {"workers": workers}
    exe = find_tinlap()
    if exe is None:
        res.error = "the `tinlap` command is not installed (pip install -e . in .venv)"
        return res
    out = rundir / "tinlap-out"
    cmd = [exe, "dedup", str(input_path), "--output", str(out), "--workers", str(workers), *extra]
    res.settings["command"] = " ".join(cmd)
    m = run_measured(cmd, log_dir=rundir, name="tinlap")
    _from_measurement(res, m)
    if res.error:
        return res
    summary = read_summary(out) or last_json_line(m.stdout_path)
    removed = None
    if summary:
        removed = summary.get("documents_removed", summary.get("docs_removed"))
    if isinstance(removed, int):
        res.docs_removed = removed
        by_reason = summary.get("removed_by_reason") if summary else None
        res.note = "removed: from tinlap's summary" + (
            " (" + ", ".join(f"{k} {v}" for k, v in by_reason.items()) + ")"
            if isinstance(by_reason, dict)
            else ""
        )
        res.raw["summary"] = summary
    elif out.exists():
        kept, used = count_records(out)
        res.docs_removed = docs_in - kept
        res.note = f"removed: input minus records in {', '.join(used) or 'nothing found'}"
    else:
        res.note = f"no output at {out}; removed unknown"
    return res


def run_competitor(tool: str, input_path: Path, rundir: Path, extra: list[str]) -> Result:
    """datatrove or text-dedup, through its runner, in its own venv."""
    res = Result(tool=tool)
    python = ENVS / tool / "bin" / "python"
    if not python.exists():
        res.error = f"{python} missing: run `bash benchmarks/competitors/setup.sh` first"
        return res
    runner = HERE / "competitors" / f"run_{tool}.py"
    workdir = rundir / tool
    cmd = [str(python), str(runner), "--input", str(input_path), "--workdir", str(workdir), *extra]
    outer = run_measured(cmd, log_dir=rundir, name=f"{tool}-runner")
    out = last_json_line(outer.stdout_path)
    if outer.returncode != 0 or out is None:
        res.error = f"runner failed (exit {outer.returncode}): {tail(outer.stderr_path, 1500)}"
        return res
    res.version = out.get("version")
    res.docs_in = out.get("docs_in")
    res.docs_removed = out.get("docs_removed")
    res.wall_s, res.cpu_s, res.peak_rss_mb = out["wall_s"], out["cpu_s"], out["peak_rss_mb"]
    res.conversion_s = out.get("conversion_s")
    res.settings = out.get("settings", {})
    res.error = out.get("error")
    res.raw = {"runner_output": out, "runner_outer_measurement": outer.to_dict()}
    counts = out.get("log_counts") or {}
    if counts:
        res.note = ", ".join(f"{k} {v}" for k, v in counts.items())
    return res


# ---------------------------------------------------------------- report


def _fmt(v: float | int | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.{digits}f}"


def ratios(results: dict[str, Result]) -> dict[str, float | None]:
    """tinlap's docs/s per core divided by each tool's."""
    t = results.get("tinlap")
    t_speed = t.docs_per_core_s if t else None
    out: dict[str, float | None] = {}
    for name, r in results.items():
        s = r.docs_per_core_s
        out[name] = (t_speed / s) if (t_speed and s) else None
    return out


def target_checks(results: dict[str, Result], rat: dict[str, float | None]) -> list[str]:
    lines = []
    for tool, key, label in (
        ("datatrove", "datatrove", "≥ 5× datatrove"),
        ("textdedup", "textdedup", "≥ 2× text-dedup"),
    ):
        r = rat.get(tool)
        if r is None:
            lines.append(f"- {label}: not measured")
        else:
            ok = r >= TARGETS[key]
            lines.append(f"- {label}: {r:.2f}× — {'met' if ok else 'NOT met'}")
    for floor, label in (
        ("floor", "within 3× of the floor (tinlap.core.normalise.matching_key)"),
        ("floor-nfc", "within 3× of the plain floor (NFC + casefold), for reference"),
    ):
        r = rat.get(floor)
        if r is None:
            lines.append(f"- {label}: not measured")
            continue
        slow = 1 / r
        ok = slow <= TARGETS["floor_max_slowdown"]
        lines.append(
            f"- {label}: tinlap needs {slow:.2f}× the floor's CPU per document"
            f" — {'met' if ok else 'NOT met'}"
        )
    t = results.get("tinlap")
    if t is None or t.error or t.peak_rss_mb is None:
        lines.append("- peak RSS under 2 GB: not measured")
    else:
        ok = t.peak_rss_mb < TARGETS["rss_mb"]
        verdict = "met" if ok else "NOT met"
        lines.append(f"- peak RSS under 2 GB: {t.peak_rss_mb:,.0f} MB — {verdict}")
    return lines


def render_markdown(meta: dict[str, Any], results: dict[str, Result]) -> str:
    rat = ratios(results)
    m = meta["machine"]
    lines = [
        f"# Speed benchmark, {meta['started']}",
        "",
        f"Input: `{meta['input']}` ({meta['docs_in']:,} documents{meta['scope_note']}). "
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['mem_total_gb']} GB, "
        f"Python {m['python']}; load average at start {m['loadavg_at_start'][0]:.2f}. "
        "Tools ran one after another, never concurrently.",
        "",
        "| tool | version | docs/s per core | wall s | CPU s | peak RSS MB | removed docs "
        "| tinlap ÷ tool |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        ratio = rat.get(name)
        lines.append(
            f"| {name} | {r.version or '—'} | {_fmt(r.docs_per_core_s, 0)} | {_fmt(r.wall_s)} "
            f"| {_fmt(r.cpu_s)} | {_fmt(r.peak_rss_mb, 0)} | {_fmt(r.docs_removed)} "
            f"| {'—' if ratio is None else f'{ratio:.2f}×'} |"
        )
    lines += [
        "",
        "docs/s per core = documents in ÷ CPU-seconds (user + sys of the tool's process tree). "
        "Peak RSS = the larger of the tree's summed PSS (sampled) and the largest single "
        "process's kernel-reported peak. Conversion of the input for a tool is not timed.",
        "",
        "## Targets (tinlap)",
        "",
        *target_checks(results, rat),
        "",
        "## Notes",
        "",
    ]
    for name, r in results.items():
        bits = []
        if r.error:
            bits.append(f"**error**: `{r.error.strip().splitlines()[-1][:300]}`")
        if r.note:
            bits.append(r.note)
        if r.conversion_s:
            bits.append(f"input conversion (untimed) {r.conversion_s:.1f} s")
        if r.settings:
            bits.append(
                "settings: " + "; ".join(f"{k}={v}" for k, v in r.settings.items() if k != "env")
            )
        lines.append(f"- **{name}**: " + (" — ".join(bits) if bits else "ok"))
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    ap.add_argument("--limit", type=int, help="first N documents only (a subset file is made)")
    ap.add_argument("--only", default=",".join(TOOLS), help=f"comma list from {','.join(TOOLS)}")
    ap.add_argument("--workers", type=int, default=1, help="tinlap dedup --workers")
    ap.add_argument(
        "--tinlap-args", default="", help="more tinlap dedup options, e.g. '--in-memory'"
    )
    ap.add_argument("--datatrove-language", default="eng", help="datatrove word tokenizer")
    ap.add_argument("--results-dir", type=Path, default=HERE / "results")
    ap.add_argument("--tag", default="", help="appended to the result file names")
    args = ap.parse_args()

    only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = set(only) - set(TOOLS)
    if unknown:
        ap.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
    src = args.input.resolve()
    input_path = make_subset(src, args.limit) if args.limit else src
    docs_in = count_docs(input_path)

    started = dt.datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    scope = f"n{args.limit}" if args.limit else "full"
    rundir = fresh_workdir(WORK / "runs" / f"{stamp}-{scope}")
    meta: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "input": str(src),
        "input_used": str(input_path),
        "limit": args.limit,
        "docs_in": docs_in,
        "scope_note": f", the first {args.limit:,}" if args.limit else ", full corpus",
        "machine": machine_info(),
        "workers": args.workers,
        "targets": TARGETS,
    }

    results: dict[str, Result] = {}
    for tool in TOOLS:
        if tool not in only:
            continue
        print(f"[speed] running {tool} ...", file=sys.stderr, flush=True)
        load_before = list(os.getloadavg())  # other people's work on this shared machine
        if tool.startswith("floor"):
            r = run_floor(input_path, rundir, "tinlap" if tool == "floor" else "nfc")
        elif tool == "tinlap":
            r = run_tinlap(input_path, rundir, args.workers, docs_in, shlex.split(args.tinlap_args))
        elif tool == "datatrove":
            r = run_competitor(tool, input_path, rundir, ["--language", args.datatrove_language])
        else:
            r = run_competitor(tool, input_path, rundir, [])
        r.raw["loadavg_before"] = load_before
        results[tool] = r
        status = f"error: {r.error.strip()[-200:]}" if r.error else f"{r.cpu_s} CPU-s"
        print(f"[speed] {tool}: {status}", file=sys.stderr, flush=True)
        if r.docs_in is not None and r.docs_in != docs_in and not r.error:
            r.note = (r.note + "; " if r.note else "") + f"saw {r.docs_in} docs, not {docs_in}"

    meta["loadavg_at_end"] = list(os.getloadavg())
    md = render_markdown(meta, results)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.tag}" if args.tag else ""
    base = args.results_dir / f"speed-{started:%Y-%m-%d}-{scope}{suffix}"
    base.with_suffix(".md").write_text(md)
    payload = {
        **meta,
        "ratios_tinlap_over_tool": ratios(results),
        "results": {
            k: {**asdict(v), "docs_per_core_s": v.docs_per_core_s} for k, v in results.items()
        },
    }
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(md)
    print(f"[speed] wrote {base}.md and .json; logs in {rundir}", file=sys.stderr)


if __name__ == "__main__":
    main()
