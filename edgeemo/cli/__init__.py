"""The ``edgeemo`` command: wires the per-command Typer apps and maps errors to one line."""

from __future__ import annotations

import os
import sys
import warnings

import typer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports TensorFlow
# litert-torch imports JAX; a later fork (multiprocessing in a converter) warns although nothing runs JAX here.
warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")

from edgeemo import __version__
from edgeemo.cli import help_style

help_style.install()
from edgeemo.cli import bench as bench_cmd
from edgeemo.cli import convert as convert_cmd
from edgeemo.cli import demo as demo_cmd
from edgeemo.cli import deploy as deploy_cmd
from edgeemo.cli import evaluate as eval_cmd
from edgeemo.cli import models as models_cmd
from edgeemo.cli import optimize as optimize_cmd
from edgeemo.cli import profile as profile_cmd
from edgeemo.cli import quantize as quantize_cmd
from edgeemo.cli import run as run_cmd
from edgeemo.cli import targets as targets_cmd
from edgeemo.cli import train as train_cmd

app = typer.Typer(
    name="edgeemo",
    help="Make trained facial-emotion models run well on edge devices: profile, convert, quantize, bench, deploy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _command(group: typer.Typer, name: str, function) -> None:
    """Register ``function`` as ``name`` with its docstring's paragraphs as flowing text, the first one as its line in
    the command list (Typer's rich help keeps a docstring's line breaks: ragged lines at any terminal width)."""
    import inspect

    paragraphs = [p.replace("\n", " ") for p in inspect.cleandoc(function.__doc__ or "").split("\n\n")]
    group.command(name, help="\n\n".join(paragraphs) or None, short_help=paragraphs[0] or None)(function)


for _name, _function in [("demo", demo_cmd.demo), ("report", demo_cmd.report), ("models", models_cmd.models),
                         ("profile", profile_cmd.profile), ("convert", convert_cmd.convert), ("eval", eval_cmd.evaluate),
                         ("quantize", quantize_cmd.quantize), ("train", train_cmd.train), ("bench", bench_cmd.bench),
                         ("optimize", optimize_cmd.optimize), ("targets", targets_cmd.targets), ("deploy", deploy_cmd.deploy),
                         ("unpack", deploy_cmd.unpack), ("run", run_cmd.run), ("testclip", run_cmd.testclip),
                         ("predict", run_cmd.predict)]:
    _command(app, _name, _function)
keys_app = typer.Typer(help="Signing keys for bundles (Ed25519).", no_args_is_help=True)
_command(keys_app, "new", deploy_cmd.keys_new)
app.add_typer(keys_app, name="keys")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"edgeemo {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """edgeemo: facial-emotion models for retail kiosks and Raspberry Pi."""


def main() -> None:
    """Console entry point: project errors become one line on stderr and exit code 2; Ctrl-C is one line, exit 130."""
    import signal

    from edgeemo.errors import EdgeemoError, Interrupted

    def interrupted(_signum, _frame):  # not KeyboardInterrupt: Typer turns that into a silent exit before cleanup is said
        raise Interrupted()

    signal.signal(signal.SIGINT, interrupted)
    debug = bool(os.environ.get("EDGEEMO_DEBUG"))
    try:
        # not standalone: usage errors come back here to be said in one line like every other error
        code = app(standalone_mode=False)
    except EdgeemoError as exc:
        if debug:
            raise
        print(f"edgeemo: error: {one_line(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (Interrupted, KeyboardInterrupt):
        print("edgeemo: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, the traceback under EDGEEMO_DEBUG=1
        if _usage_error(exc):
            return
        if debug:
            raise
        if isinstance(exc, OSError) and exc.filename:  # the machine refused a named path (missing, permission, disk full)
            print(f"edgeemo: error: {one_line(f'{exc.strerror or exc}: {exc.filename}')}", file=sys.stderr)
            sys.exit(1)
        print(f"edgeemo: internal error: {type(exc).__name__}: {one_line(str(exc))} (set EDGEEMO_DEBUG=1 for the traceback)",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: Exception) -> bool:
    """Click's usage errors (bad option, bad value, missing argument) as one line and exit 2; False for anything else."""
    if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
        return False
    if type(exc).__name__ == "NoArgsIsHelpError":  # `edgeemo` or `edgeemo keys` alone: the help, as Typer shows it
        exc.show()
        sys.exit(exc.exit_code)
    if type(exc).__name__ == "Abort":  # end of input at a prompt
        print("edgeemo: aborted", file=sys.stderr)
        sys.exit(1)
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    print(f"edgeemo: error: {one_line(exc.format_message())}{where}", file=sys.stderr)
    sys.exit(exc.exit_code)


def one_line(text: str, limit: int = 400) -> str:
    """A message as one line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
