"""Settings by name, as people write them: on the command line, in a TOML file, in a
``summary.json``, or as keyword arguments of the Python API.

One vocabulary for all four: the ``DedupConfig`` field names (``jaccard_threshold``,
``learn_boilerplate``, ...), the CLI's spellings of them (``jaccard``, ``containment``, ``keep``,
``sentence_coverage``, ``format``, and the flags ``no_clean``, ``no_learn``,
``keep_original_text``), dashes or underscores alike, and the options of how a run executes,
which change no decision (``RUN_OPTIONS``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from tinlap.config import DedupConfig

CONFIG_FIELDS = tuple(f.name for f in fields(DedupConfig))

# The CLI's names for config fields.
ALIASES = {
    "jaccard": "jaccard_threshold",
    "containment": "containment_threshold",
    "keep": "keep_policy",
    "sentence_coverage": "min_sentence_coverage",
    "format": "input_format",
}

# CLI flags that say the opposite of a field, or name one of its values.
FLAGS = {
    "no_clean": ("clean", lambda on: not on),
    "no_learn": ("learn_boilerplate", lambda on: not on),
    "keep_original_text": ("output_text", lambda on: "original" if on else "cleaned"),
}

# How a run executes (the same result whatever their values), with their defaults.
RUN_OPTIONS: dict[str, Any] = {
    "engine": "auto",  # auto | in-memory | sharded
    "strict": False,
    "quiet": True,
    "work": None,
    "executor": "local",
    "ray_address": None,
    "memory_limit": None,  # bytes, or a size such as "4G"
    "skip_bad_shards": False,
    "restart": False,
    "keep_work": False,
    "components": "union-find",
    "against": None,
    "inputs": None,
    "output": None,
}


# Settings added after runs were recorded, with the value those runs had in effect: an earlier
# run's summary.json without them is repeated (and explained) exactly.
PREDATED: dict[str, Any] = {"shingles": "words"}  # before it, every unit was a whitespace word


def recorded_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of an earlier run (a summary.json's ``config``), completed with the values
    in effect before settings it predates existed."""
    return {**PREDATED, **config}


class SettingsError(ValueError):
    """A setting tinlap does not know, or a settings file it cannot read."""


def normalise(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``settings`` as (DedupConfig fields, run options); unknown names raise SettingsError."""
    config: dict[str, Any] = {}
    run: dict[str, Any] = {}
    unknown = []
    for raw, value in settings.items():
        name = str(raw).replace("-", "_")
        name = ALIASES.get(name, name)
        if name in FLAGS:
            field, convert = FLAGS[name]
            config[field] = convert(bool(value))
        elif name in CONFIG_FIELDS:
            config[name] = parse_size(value) if name == "output_shard_size" else value
        elif name in RUN_OPTIONS:
            run[name] = value
        else:
            unknown.append(str(raw))
    if unknown:
        known = sorted({*CONFIG_FIELDS, *ALIASES, *FLAGS, *RUN_OPTIONS})
        raise SettingsError(
            f"unknown setting{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(known)}"
        )
    return config, run


def make_config(settings: Mapping[str, Any]) -> tuple[DedupConfig, dict[str, Any]]:
    """The DedupConfig of ``settings`` (defaults for the rest) and its run options."""
    config, run = normalise(settings)
    return DedupConfig(**config), {**RUN_OPTIONS, **run}


def load_file(path: str | Path) -> dict[str, Any]:
    """The settings in a TOML file (``.toml``) or a JSON file: a ``summary.json`` of an earlier
    run (its ``config``: that run's settings exactly) or a JSON object of settings."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SettingsError(f"{path}: cannot read it ({err.strerror})") from None
    try:
        if path.suffix.lower() == ".toml":
            loaded: Any = tomllib.loads(data.decode())
        else:
            loaded = json.loads(data)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as err:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise SettingsError(f"{path}: not valid {kind}: {err}") from None
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: not a table of settings")
    if "tinlap_version" in loaded and isinstance(loaded.get("config"), dict):
        return recorded_config(loaded["config"])  # summary.json: that run's whole configuration
    return loaded


def parse_size(value: str | int | None) -> int | None:
    """Bytes from '4G', '512M', '1.5GiB' or a plain number (None stays None)."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip().upper().removesuffix("IB").removesuffix("B")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    try:
        return int(float(text[:-1] if scale > 1 else text) * scale)
    except ValueError:
        raise SettingsError(f"{value!r} is not a size such as 4G or 512M") from None
