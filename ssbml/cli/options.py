"""Checks shared by the commands: numeric options at the CLI boundary and the tracking
server probe.

Every numeric option goes through :func:`number` (a typer callback) or
:func:`check_number`: NaN and infinity never pass, and each option states its range
(positive, non-negative, a fraction ...). A bad value ends in one line
``error: --max-rms-percent = nan: must be a finite number > 0`` and exit code 2.

:func:`tracking_uri_or_exit` probes the mlflow tracking URI (a few seconds at most)
before any work starts. Only typer and the standard library are imported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import typer

__all__ = [
    "TRACK_FALLBACK_HELP",
    "TRUST_MODEL_HELP",
    "check_number",
    "fail",
    "number",
    "tracking_uri_or_exit",
    "trust_models",
]

TRACK_FALLBACK_HELP = (
    "What to do if the tracking server is unreachable: stop with an error (default) or "
    "'local': log to the per-user local store (sqlite) instead, and say so."
)

TRUST_MODEL_HELP = (
    "Unpickle model files whose sha256 is in no trusted manifest (the shipped "
    "models/manifest.json or this installation's trust list). Unpickling runs code: "
    "only for files whose origin you trust."
)


def trust_models(flag: bool) -> None:
    """``--trust-model``: let :func:`ssbml.ml.store.load_model` unpickle untrusted
    files, in this process and the worker processes it starts (``SSBML_TRUST_MODEL``)."""
    if flag:
        import os

        os.environ["SSBML_TRUST_MODEL"] = "1"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def _describe(positive: bool, nonnegative: bool, lo: float | None, hi: float | None,
              lo_open: bool, hi_open: bool) -> str:
    parts = []
    if positive:
        parts.append("> 0")
    elif nonnegative:
        parts.append(">= 0")
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return "a finite number" + (" " + " and ".join(parts) if parts else "")


def check_number(
    value: Any,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> Any:
    """Return ``value`` if it is None or a finite number in range; otherwise print a
    one-line error naming ``name`` and exit with code 2."""
    if value is None:
        return value
    if isinstance(value, list | tuple):
        for v in value:
            check_number(v, name, positive=positive, nonnegative=nonnegative, lo=lo, hi=hi,
                         lo_open=lo_open, hi_open=hi_open)
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    ok = math.isfinite(v)
    ok = ok and not (positive and v <= 0) and not (nonnegative and v < 0)
    ok = ok and (lo is None or (v > lo if lo_open else v >= lo))
    ok = ok and (hi is None or (v < hi if hi_open else v <= hi))
    if not ok:
        from ssbml.io import shorten

        shown = shorten(value) if isinstance(value, str) else f"{value}"
        raise fail(f"{name} = {shown}: must be "
                   f"{_describe(positive, nonnegative, lo, hi, lo_open, hi_open)}")
    return value


def number(**rules: Any) -> Callable[..., Any]:
    """A typer callback applying :func:`check_number` with ``rules`` to an option."""

    def callback(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        if ctx.resilient_parsing:
            return value
        name = max(param.opts, key=len) if param.opts else (param.name or "value")
        return check_number(value, name, **rules)

    return callback


def tracking_uri_or_exit(
    uri: str | None, fallback: str | None, *, hint: str | None = "--no-track"
) -> str:
    """The tracking URI to use, after probing it (a few seconds at most).

    Unreachable: with ``fallback == "local"`` warn and return the local sqlite store;
    otherwise print ``tracking server URI unreachable; use HINT or --tracking-uri
    sqlite:///<per-user store>`` and exit with code 2.
    """
    from ssbml.tracking.runs import (
        TrackingUnreachableError,
        default_tracking_uri,
        probe_tracking_uri,
        resolve_tracking_uri,
    )

    local = default_tracking_uri()

    if fallback not in (None, "none", "local"):
        raise fail(f"--track-fallback must be 'local' or 'none', got {fallback!r}")
    resolved = resolve_tracking_uri(uri)
    try:
        return probe_tracking_uri(resolved)
    except TrackingUnreachableError as exc:
        if fallback == "local" and resolved != local:
            typer.echo(f"warning: {exc.detail}; logging to the local store "
                       f"{local} instead (--track-fallback local)", err=True)
            from ssbml.tracking.runs import user_tracking_dir

            user_tracking_dir().mkdir(parents=True, exist_ok=True)
            try:
                return probe_tracking_uri(local)
            except TrackingUnreachableError as exc2:
                raise fail(exc2.detail) from None
        use = f"{hint} or " if hint else ""
        raise fail(f"{exc.detail}; use {use}--tracking-uri {local}"
                   + ("" if fallback == "local" else " (or --track-fallback local)")
                   + (f". Cause: {exc.cause}" if exc.cause else "")) from None
