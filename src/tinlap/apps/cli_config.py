"""``--config FILE``: every option of ``dedup`` and ``clean`` from a file.

FILE is TOML (``jaccard = 0.6``, ``keep = "first"``, ``no-learn = true``; the options' names,
with dashes or underscores, or ``DedupConfig``'s field names) or an earlier run's
``summary.json``, whose ``config`` is that run's whole configuration: the run is repeated with
exactly its settings. Options given on the command line override the file (the file's values
become the options' defaults, click's ``default_map``); settings that have no option here
(``max_bucket``, ``prefilter_z``, ``max_record_bytes``...) go straight into the configuration.
"""

from __future__ import annotations

from typing import Any

import click

from tinlap.settings import SettingsError, load_file, normalise

_EXTRA = "tinlap.config_extra"

# Config fields whose option says the opposite, or names a value.
_AS_OPTION = {
    "clean": ("no_clean", lambda v: not v),
    "learn_boilerplate": ("no_learn", lambda v: not v),
    "output_text": ("keep_original_text", lambda v: v == "original"),
}


def _load(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    try:
        fields, run = normalise(load_file(value))
    except SettingsError as err:
        raise click.BadParameter(str(err), ctx, param) from None
    names = {p.name for p in ctx.command.params}
    defaults: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, setting in fields.items():
        option, convert = _AS_OPTION.get(name, (name, lambda v: v))
        if option in names:
            defaults[option] = convert(setting)
        else:
            extra[name] = setting
    for name, setting in run.items():
        if name not in names:
            raise click.BadParameter(
                f"{value}: {name!r} is not an option of tinlap {ctx.command.name}", ctx, param
            )
        defaults[name] = setting
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta[_EXTRA] = extra


config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_load,
    help="Options from a TOML file, or an earlier run's summary.json (its settings exactly); "
    "options given here override it.",
)


def config_extra() -> dict[str, Any]:
    """Settings from ``--config`` that have no option of this command (DedupConfig fields)."""
    ctx = click.get_current_context(silent=True)
    return dict(ctx.meta.get(_EXTRA, {})) if ctx is not None else {}
