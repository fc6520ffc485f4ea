"""The one guarded loader for pickle-bearing files (checkpoints, state dicts, ``.pt2`` archives).

A pickle can run code when it is read. Every load goes through here: weights-only (tensors, numbers, strings,
lists and dicts), or refused with one line naming ``--trust-checkpoint``. Trust is a process-wide choice the
CLI makes from that flag; nothing else turns it on.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import Any, Iterator

from edgeemo.errors import ModelLoadError, first_line

_FORCE = "TORCH_FORCE_WEIGHTS_ONLY_LOAD"
_trusted = False
TRUST_HINT = "pass --trust-checkpoint only if you trust its origin (full unpickling runs code from the file)"


def trust_pickles(trusted: bool) -> None:
    """Allow (True) or forbid (False, the default) full unpickling for the rest of this process."""
    global _trusted
    _trusted = bool(trusted)


def pickles_trusted() -> bool:
    return _trusted


@contextlib.contextmanager
def weights_only() -> Iterator[None]:
    """Inside, every ``torch.load`` is weights-only whatever its caller asks (torch honours the variable per call).

    ``torch.export.load`` retries a refused weights-only load of its embedded pickles with full unpickling; this
    turns that retry into a second refusal."""
    if _trusted:
        yield
        return
    before = os.environ.get(_FORCE)
    os.environ[_FORCE] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_FORCE, None)
        else:
            os.environ[_FORCE] = before


def _refused(path: Path | str, exc: BaseException) -> ModelLoadError:
    import re

    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)|Unsupported operand (\d+)", str(exc))
    what = f" ({found.group(1) or 'opcode ' + found.group(2)})" if found else ""
    return ModelLoadError(f"{path}: holds objects beyond tensors and plain data{what}, refused by weights-only loading; {TRUST_HINT}")


def torch_load(path: Path | str) -> Any:
    """``torch.load`` on CPU: weights-only unless trusted; a refused or unreadable file is one line."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"no such file: {path}")
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic[:2] != b"PK" and magic[:1] != b"\x80":  # torch.save writes a zip archive (or, long ago, a pickle)
        raise ModelLoadError(f"{path}: not a PyTorch file (neither a torch.save archive nor a pickle)")
    try:
        with weights_only():
            return torch.load(str(path), map_location="cpu", weights_only=not _trusted)
    except pickle.UnpicklingError as exc:
        raise _refused(path, exc) from exc
    except Exception as exc:
        raise ModelLoadError(f"{path}: not a readable PyTorch file: {first_line(exc)}") from exc


def load_exported_program(path: Path | str):
    """``torch.export.load`` with its embedded pickles weights-only unless trusted."""
    import torch

    try:
        with weights_only():
            return torch.export.load(str(path))
    except pickle.UnpicklingError as exc:
        raise _refused(path, exc) from exc
    except Exception as exc:
        if "weights_only" in str(exc) or "Weights only load failed" in str(exc):
            raise _refused(path, exc) from exc
        raise ModelLoadError(f"{path}: cannot load the ExportedProgram: {first_line(exc)}") from exc
