"""Time text-dedup's MinHash deduplication on a JSONL corpus, at its README's settings.

Run with the text-dedup environment's Python (3.12+, see setup.sh), never with tinlap's:

    benchmarks/.envs/textdedup/bin/python benchmarks/competitors/run_textdedup.py \
        --input /work/shared/data/vntc.jsonl.zst --workdir benchmarks/.work/runs/textdedup

Settings are the README's MinHash config.toml (num_perm 240, threshold 0.7, 5-grams,
64-bit hashes, false-positive check on, seed 42, batch_size 10000, save_clusters on), run
through the tool's own entry point `python -m text_dedup.minhash`, which reads
./config.toml. We add `num_proc = 1` and POLARS_MAX_THREADS=1 so that one core is used;
our numbers are per CPU-second anyway.

Input: text-dedup loads Hugging Face datasets. The README feeds it Parquet through
`load_dataset`, which would convert it to Arrow inside the timed run; we convert the corpus
once, untimed (reported as conversion_s), into a dataset saved with `save_to_disk` and use
its `local_hf_dataset` input. datasets writes map() caches next to a saved dataset, so each
run gets a fresh copy of it. Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

SETTINGS: dict[str, Any] = {
    "algorithm_name": "minhash",
    "text_column": "text",
    "seed": 42,
    "batch_size": 10000,
    "num_perm": 240,
    "threshold": 0.7,
    "false_positive_weight": 0.5,
    "false_negative_weight": 0.5,
    "hash_bits": 64,
    "ngram_size": 5,
    "check_false_positive": True,
}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)


def write_config(path: Path, dataset_dir: Path, output_dir: Path) -> None:
    """The README's config.toml, pointed at our dataset, with one process."""
    lines = [
        "[input]",
        'input_type = "local_hf_dataset"',
        "",
        "[input.read_arguments]",
        f"dataset_path = {json.dumps(str(dataset_dir))}",
        "",
        "[algorithm]",
        *(f"{k} = {_toml_value(v)}" for k, v in SETTINGS.items()),
        "num_proc = 1",
        "",
        "[output]",
        f"output_dir = {json.dumps(str(output_dir))}",
        "clean_cache = false",
        "save_clusters = true",
        "",
        "[debug]",
        "enable_profiling = false",
        "",
    ]
    path.write_text("\n".join(lines))


def convert(input_path: Path, cache_root: Path) -> tuple[Path, float]:
    """JSONL(.zst) -> datasets' on-disk format, once per input file (keyed by size+mtime).

    Returns the dataset's path and how long the conversion took (when it was first made).
    """
    import pyarrow.json as pj
    from datasets import Dataset

    st = input_path.stat()
    target = cache_root / f"{input_path.name}-{st.st_size}-{int(st.st_mtime)}"
    timing = target.with_name(target.name + ".conversion_s")
    if (target / "dataset_info.json").exists() and timing.exists():
        return target, float(timing.read_text())  # the time it took when it was made
    t0 = time.perf_counter()
    table = pj.read_json(str(input_path))  # decompresses .zst by extension
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    Dataset(table).save_to_disk(str(tmp))
    tmp.rename(target)
    seconds = round(time.perf_counter() - t0, 3)
    timing.write_text(str(seconds))
    return target, seconds


def parse_log(text: str) -> dict[str, int]:
    """Counts text-dedup logs along the way (too-short docs filtered, LSH false positives)."""
    found: dict[str, int] = {}
    for key, pattern in (
        ("filtered_short", r"Filtered (\d+) records"),
        ("false_positives", r"False Positives\s*:\s*(\d+)"),
        ("true_positives", r"True Positives\s*:\s*(\d+)"),
    ):
        m = re.search(pattern, text)
        if m:
            found[key] = int(m.group(1))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--input", type=Path, required=True, help="corpus, .jsonl or .jsonl.zst")
    ap.add_argument("--workdir", type=Path, required=True, help="scratch dir, emptied first")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(__file__).resolve().parent.parent / ".work" / "textdedup-datasets",
        help="where converted datasets are kept between runs",
    )
    args = ap.parse_args()
    input_path = args.input.resolve()
    workdir = args.workdir.resolve()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from importlib.metadata import version

    from measure_child import fresh_workdir, run_measured, tail

    fresh_workdir(workdir)
    args.cache.mkdir(parents=True, exist_ok=True)
    source, conversion_s = convert(input_path, args.cache.resolve())
    dataset_dir = workdir / "input-dataset"
    shutil.copytree(source, dataset_dir)  # fresh copy: no map() cache from an earlier run
    output_dir = workdir / "output"
    write_config(workdir / "config.toml", dataset_dir, output_dir)

    env = dict(os.environ)
    env.update(
        POLARS_MAX_THREADS="1",
        RAYON_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        HF_DATASETS_OFFLINE="1",
        HF_HUB_OFFLINE="1",
        HF_HOME=str(workdir / "hf-home"),
    )
    cmd = [sys.executable, "-m", "text_dedup.minhash"]
    m = run_measured(cmd, log_dir=workdir, name="textdedup", cwd=workdir, env=env)

    from datasets import load_from_disk

    docs_in = load_from_disk(str(dataset_dir)).num_rows
    result: dict[str, Any] = {
        "tool": "text-dedup",
        "version": version("text-dedup"),
        "input": str(input_path),
        "docs_in": docs_in,
        "conversion_s": conversion_s,
    }
    if m.returncode == 0:
        docs_out = load_from_disk(str(output_dir)).num_rows
        result.update(docs_out=docs_out, docs_removed=docs_in - docs_out)
    else:
        result["error"] = tail(m.stderr_path)
    log_text = tail(m.stdout_path, 200_000) + tail(m.stderr_path, 200_000)
    result.update({k: v for k, v in m.to_dict().items() if k != "cmd"})
    result["log_counts"] = parse_log(log_text)
    result["settings"] = {
        "source": "text-dedup README, MinHash config.toml",
        **SETTINGS,
        "num_proc": 1,
        "env": "POLARS_MAX_THREADS=1",
        "entry_point": "python -m text_dedup.minhash (reads ./config.toml)",
        "input_format": "datasets save_to_disk (local_hf_dataset), converted untimed",
    }
    shutil.rmtree(dataset_dir, ignore_errors=True)  # 1 copy of the corpus is enough on disk
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
