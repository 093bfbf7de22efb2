#!/usr/bin/env bash
# Build the competitors' own virtual environments for benchmarks/speed.py.
#
# Why separate venvs: datatrove and text-dedup pin dependencies (xxhash<4, datasets, polars,
# spaCy, ...) that must not leak into tinlap's environment, and text-dedup 0.4.1 needs
# Python >= 3.12 while tinlap's venv is 3.11. The exact versions measured are pinned in
# requirements-*.txt next to this script (pip freeze of a working install).
#
#   datatrove 0.10.1  = datatrove[io,processing] + spacy
#       io:         orjson + zstandard for JsonlReader/JsonlWriter on .jsonl.zst
#       processing: xxhash (the default minhash hash), regex (text normalisation)
#       spacy:      its English word tokenizer is spacy.blank("en"); spaCy is otherwise
#                   only in the heavy [multilingual] extra (TensorFlow, stanza, ...)
#   text-dedup 0.4.1  (Python >= 3.12)
#
# Idempotent: an env whose .ok marker matches the pinned file is left alone.
# Usage: bash benchmarks/competitors/setup.sh   (from anywhere; FORCE=1 rebuilds)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
envs="$(cd "$here/.." && pwd)/.envs"
mkdir -p "$envs"

find_python() {  # find_python MAJOR.MINOR ... -> first interpreter found
    local v cand
    for v in "$@"; do
        for cand in "python$v" "$HOME/.pyenv/versions/$v"*/bin/"python$v" \
                    /usr/bin/"python$v" /usr/local/bin/"python$v"; do
            if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import venv' 2>/dev/null; then
                command -v "$cand"
                return 0
            fi
        done
    done
    return 1
}

make_env() {  # make_env NAME PYTHON REQUIREMENTS_FILE CHECK_IMPORT
    local name="$1" python="$2" req="$3" check="$4"
    local dir="$envs/$name"
    local stamp
    stamp="$(sha256sum "$req" | cut -d' ' -f1)"
    if [[ "${FORCE:-0}" != 1 && -f "$dir/.ok" && "$(cat "$dir/.ok")" == "$stamp" ]]; then
        echo "[setup] $name: already set up ($dir)"
        return 0
    fi
    echo "[setup] $name: creating $dir with $("$python" --version 2>&1)"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    # pip's log goes to a file: this machine's pip.conf names local indexes that may be
    # absent, and pip warns about each of them for every package.
    if ! "$dir/bin/python" -m pip install --quiet -r "$req" >"$dir/pip-install.log" 2>&1; then
        grep -v "is ignored" "$dir/pip-install.log" | tail -30 >&2
        echo "[setup] $name: pip install failed (full log: $dir/pip-install.log)" >&2
        exit 1
    fi
    "$dir/bin/python" -c "$check"
    echo "$stamp" > "$dir/.ok"
    echo "[setup] $name: ok"
}

py311="$(find_python 3.11 3.12 3.13)" || { echo "need Python >= 3.11 for datatrove" >&2; exit 1; }
make_env datatrove "$py311" "$here/requirements-datatrove.txt" \
    'import datatrove, spacy, xxhash, orjson, zstandard; from datatrove.utils.word_tokenizers import load_word_tokenizer; load_word_tokenizer("eng").word_tokenize("a b"); from importlib.metadata import version; print("datatrove", version("datatrove"))'

py312="$(find_python 3.12 3.13)" || {
    echo "text-dedup 0.4.1 needs Python >= 3.12 and none was found (try: apt-get install python3.12, or pyenv)" >&2
    exit 1
}
make_env textdedup "$py312" "$here/requirements-textdedup.txt" \
    'import text_dedup.minhash, datasets, polars; from importlib.metadata import version; print("text-dedup", version("text-dedup"))'
