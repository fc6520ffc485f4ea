"""Shared CLI pieces: option aliases, number formatting, JSON printing."""

from __future__ import annotations

import contextlib
import json
from enum import Enum
from typing import Annotated, Any, Callable, Iterator

import typer
from rich.console import Console

LOG_WIDTH = 200  # output with no terminal anywhere (cron, CI, a service's log): Rich's 80 split paths over two lines


def _console(stderr: bool = False) -> Console:
    """A terminal's own width (or COLUMNS); LOG_WIDTH when neither the output nor the input is a terminal."""
    import os
    import sys

    stream = sys.stderr if stderr else sys.stdout
    attached = any(f is not None and hasattr(f, "isatty") and f.isatty() for f in (stream, sys.stdin))
    return Console(stderr=stderr, width=None if attached or os.environ.get("COLUMNS") else LOG_WIDTH)


console = _console()
err_console = _console(stderr=True)


def esc(value: object) -> str:
    """User or data text for a Rich string: its '[' never reads as markup (paths, names, labels, split names)."""
    from rich.markup import escape

    return escape(str(value))


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts instead of tables.")]
InputShapeOpt = Annotated[
    str | None,
    typer.Option("--input-shape", help="Input shape, e.g. 1,3,64,64 (overrides a dynamic or unknown shape)."),
]


@contextlib.contextmanager
def status(text: str, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step and the elapsed time on stderr (off for --json, and when stderr is not a
    terminal: no stray lines in logs); yields ``update(step)``. Each step that finishes is left as a line with its
    time, so long work never runs silent."""
    if not enabled or not err_console.is_terminal:
        yield lambda _text: None
        return
    import time

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task(text, total=None)
        state = {"step": None, "t0": time.perf_counter()}

        def update(new: str) -> None:
            now = time.perf_counter()
            if state["step"] is not None and now - state["t0"] >= 2.0:
                bar.console.print(f"[dim]  {esc(state['step'])}: {now - state['t0']:.1f} s[/dim]")
            state["step"], state["t0"] = new, now
            bar.update(task, description=esc(new))

        yield update


class PrecisionHint(str, Enum):
    f32 = "f32"
    bf16 = "bf16"
    f16 = "f16"


PrecisionHintOpt = Annotated[
    PrecisionHint | None,
    typer.Option("--precision-hint", help="OpenVINO compute precision. Default: the device's own (bf16 on CPUs with AMX, f16 "
                                          "on GPU/NPU), as a deployment gets; the result records what it computed in."),
]


def hint(value: PrecisionHint | None) -> str | None:
    return value.value if value is not None else None


RuntimeOpt = Annotated[
    str | None,
    typer.Option("--runtime", help="openvino, onnxruntime, litert, or torch/keras to run a source model eagerly. Default: an "
                                   "artifact's own runtime; openvino for a zoo name or source model (converted and verified "
                                   "once, cached in ~/.cache/edgeemo or $EDGEEMO_CACHE)."),
]


def model_line(resolved) -> str:
    """'model: zoo-name -> artifact (runtime, from the cache)': what MODEL resolved to, for the human output."""
    from edgeemo.resolve import ResolvedModel

    if isinstance(resolved, dict):
        resolved = ResolvedModel(**resolved)
    return f"[dim]model: {esc(resolved.describe())}[/dim]" if resolved else ""


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2))


def human(n: float, unit: str = "") -> str:
    """62991365 -> '62.99M'."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= div:
            return f"{n / div:.2f}{suffix}{unit}"
    return f"{n:g}{unit}"


ArchOpt = Annotated[str | None, typer.Option("--arch", help="Architecture for a checkpoint: a zoo name (weights from `edgeemo train`; "
                                                         "the zoo's preprocessing facts apply), or package.module:Class or path/file.py:Class "
                                                         "(its module is imported, so its code runs: only name code you trust).")]
ArchKwargsOpt = Annotated[str | None, typer.Option("--arch-kwargs", help="Constructor arguments as Python literals, e.g. "
                                                                         "num_classes=5,io_list=[[1,28],[28,56]], or @args.json.")]
StateKeyOpt = Annotated[str | None, typer.Option("--state-key", help="Key of the state dict inside the checkpoint.")]
ChannelOrderOpt = Annotated[str | None, typer.Option("--channel-order", help="gray, bgr or rgb (source models without a card).")]
MeanOpt = Annotated[str | None, typer.Option("--mean", help="Per-channel mean subtracted from 0..255 pixels.")]
ScaleOpt = Annotated[str | None, typer.Option("--scale", help="Per-channel divisor after the mean.")]
LabelsOpt = Annotated[str | None, typer.Option("--labels", help="Class names in output order, comma-separated.")]


def floats(text: str | None, flag: str) -> list[float] | None:
    if not text:
        return None
    import math

    from edgeemo.errors import EdgeemoError

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise EdgeemoError(f"{flag} {text!r}: expected numbers like 127.5 or 103.9,116.8,123.7") from None
    if len(values) not in (1, 3):
        raise EdgeemoError(f"{flag} {text!r}: give one value, or three (one per channel)")
    if not all(math.isfinite(v) for v in values):
        raise EdgeemoError(f"{flag} {text!r}: values must be finite numbers")
    if flag == "--scale" and any(v <= 0 for v in values):
        raise EdgeemoError(f"{flag} {text!r}: the divisor must be positive")
    if flag == "--mean" and any(v < 0 or v > 255 for v in values):
        raise EdgeemoError(f"{flag} {text!r}: a mean of 0..255 pixels lies in 0..255")
    return values


def overrides(input_shape=None, channel_order=None, mean=None, scale=None, labels=None):
    """Preprocessing flags -> Overrides (validated)."""
    from edgeemo.errors import EdgeemoError
    from edgeemo.models.spec import CHANNEL_ORDERS
    from edgeemo.sources import Overrides
    from edgeemo.sources import parse_shape

    if channel_order and channel_order not in CHANNEL_ORDERS:
        raise EdgeemoError(f"--channel-order {channel_order!r}: gray, bgr or rgb")
    return Overrides(
        input_shape=parse_shape(input_shape),
        channel_order=channel_order,
        mean=floats(mean, "--mean"),
        scale=floats(scale, "--scale"),
        labels=_labels(labels),
    )


def _labels(text: str | None) -> list[str] | None:
    from edgeemo.errors import EdgeemoError

    if not text:
        return None
    labels = [v.strip() for v in text.split(",")]
    if not all(labels) or len(set(labels)) != len(labels):
        raise EdgeemoError(f"--labels {text!r}: names must be non-empty and distinct")
    return labels


def _trust(value: bool) -> bool:
    from edgeemo.safeload import trust_pickles

    trust_pickles(value)
    return value


TrustOpt = Annotated[bool, typer.Option(
    "--trust-checkpoint", callback=_trust,
    help="Allow full unpickling of checkpoints and .pt2 archives. Unpickling runs code from the file: only for files you trust.")]


RemoteOpt = Annotated[str | None, typer.Option("--remote", help="Run on this device over SSH (user@host or an ssh-config Host); host keys are checked.")]
SshConfigOpt = Annotated[str | None, typer.Option("--ssh-config", help="ssh config file (port, key, known_hosts) for --remote.")]
RemotePythonOpt = Annotated[str, typer.Option("--remote-python", help="Python on the device (with the bundle's requirements).")]


def remote_host(remote: str, ssh_config: str | None, python: str):
    from edgeemo.deploy.remote import RemoteHost

    return RemoteHost(remote, ssh_config, python)
