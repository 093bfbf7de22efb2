"""Time datatrove's MinHash deduplication on a JSONL corpus, at the settings of its own example.

Run with the datatrove environment's Python (see setup.sh), never with tinlap's:

    benchmarks/.envs/datatrove/bin/python benchmarks/competitors/run_datatrove.py \
        --input /work/shared/data/vntc.jsonl.zst --workdir benchmarks/.work/runs/datatrove

Settings follow datatrove's `examples/minhash_deduplication.py` (we only call its public
API, nothing is copied): word 5-grams, 14 buckets x 8 hashes, 64-bit hashes, English word
tokenizer, the four stages signatures -> buckets -> clusters -> filter, and JsonlWriter for
the kept and the removed documents. Two deviations, both to make "per core" honest and the
run possible offline: every stage runs on LocalPipelineExecutor with one worker, and the
example's TokensCounter step is left out (it downloads a GPT-2 tokenizer from the Hub and
only counts tokens).

datatrove reads the .jsonl.zst directly (fsspec decompresses it), so there is no conversion
step. The script re-runs itself with --inner as the measured child, so the numbers cover
the tool alone: interpreter start, imports, the four stages and writing the output.
Prints one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

N_GRAMS = 5
NUM_BUCKETS = 14
HASHES_PER_BUCKET = 8


def run_pipeline(input_path: Path, workdir: Path, language: str) -> None:
    """The measured part: datatrove's four MinHash stages, one worker each."""
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    config = MinhashConfig(
        n_grams=N_GRAMS,
        num_buckets=NUM_BUCKETS,
        hashes_per_bucket=HASHES_PER_BUCKET,
        hash_config=HashConfig(precision=64),
    )
    base = workdir / "minhash"
    logs = workdir / "logs"

    def reader() -> Any:
        return JsonlReader(
            str(input_path.parent), glob_pattern=input_path.name, text_key="text", id_key="id"
        )

    stage1 = LocalPipelineExecutor(
        pipeline=[
            reader(),
            MinhashDedupSignature(
                output_folder=str(base / "signatures"), config=config, language=language
            ),
        ],
        tasks=1,
        workers=1,
        logging_dir=str(logs / "signatures"),
    )
    stage2 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupBuckets(
                input_folder=str(base / "signatures"),
                output_folder=str(base / "buckets"),
                config=config,
            )
        ],
        tasks=config.num_buckets,
        workers=1,
        logging_dir=str(logs / "buckets"),
        depends=stage1,
    )
    stage3 = LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(
                input_folder=str(base / "buckets"),
                output_folder=str(base / "remove_ids"),
                config=config,
            )
        ],
        tasks=1,
        workers=1,
        logging_dir=str(logs / "clusters"),
        depends=stage2,
    )
    stage4 = LocalPipelineExecutor(
        pipeline=[
            reader(),
            MinhashDedupFilter(
                input_folder=str(base / "remove_ids"),
                exclusion_writer=JsonlWriter(str(base / "removed")),
            ),
            JsonlWriter(output_folder=str(base / "deduplicated_output")),
        ],
        tasks=1,
        workers=1,
        logging_dir=str(logs / "filter"),
        depends=stage3,
    )
    stage4.run()


def count_jsonl_gz(folder: Path) -> int:
    """Documents in datatrove's JsonlWriter output (gzip JSONL files)."""
    n = 0
    for path in sorted(folder.rglob("*.jsonl.gz")):
        with gzip.open(path, "rb") as f:
            n += sum(1 for line in f if line.strip())
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--input", type=Path, required=True, help="corpus, .jsonl or .jsonl.zst")
    ap.add_argument("--workdir", type=Path, required=True, help="scratch dir, emptied first")
    ap.add_argument("--language", default="eng", help="datatrove word tokenizer (eng, vie, ...)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    input_path = args.input.resolve()
    workdir = args.workdir.resolve()

    if args.inner:
        run_pipeline(input_path, workdir, args.language)
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from measure_child import fresh_workdir, run_measured, tail

    fresh_workdir(workdir)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--inner"]
    cmd += ["--input", str(input_path), "--workdir", str(workdir), "--language", args.language]
    m = run_measured(cmd, log_dir=workdir, name="datatrove", env=os.environ)

    base = workdir / "minhash"
    kept = count_jsonl_gz(base / "deduplicated_output")
    removed = count_jsonl_gz(base / "removed")
    result: dict[str, Any] = {
        "tool": "datatrove",
        "version": _dist_version("datatrove"),
        "input": str(input_path),
        "docs_in": kept + removed,
        "docs_out": kept,
        "docs_removed": removed,
        "conversion_s": 0.0,
        **{k: v for k, v in m.to_dict().items() if k not in ("cmd",)},
        "settings": {
            "source": "datatrove examples/minhash_deduplication.py",
            "n_grams": N_GRAMS,
            "num_buckets": NUM_BUCKETS,
            "hashes_per_bucket": HASHES_PER_BUCKET,
            "hash": "xxhash, 64-bit (HashConfig(precision=64))",
            "language": args.language,
            "executor": "LocalPipelineExecutor, workers=1 for every stage",
            "omitted": "TokensCounter (needs a Hub tokenizer download; only counts tokens)",
            "input_format": "the .jsonl.zst itself via JsonlReader (no conversion)",
        },
    }
    if m.returncode != 0:
        result["error"] = tail(m.stderr_path)
    print(json.dumps(result, ensure_ascii=False))


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
