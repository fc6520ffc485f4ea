"""Silence native libraries (TensorFlow, LiteRT, absl) that write to file descriptor 2 directly."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from typing import Iterator


@contextlib.contextmanager
def quiet_native() -> Iterator[None]:
    """Send fd 1/2 output of the block to a scratch file; replay it only under EDGEEMO_DEBUG."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if os.environ.get("EDGEEMO_DEBUG"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
