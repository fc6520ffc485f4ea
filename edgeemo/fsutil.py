"""Atomic writes: an artifact appears under its final name only when complete."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    except OSError as exc:  # name the file asked for, not the temporary one beside it
        raise type(exc)(exc.errno, exc.strerror, str(final)) from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; artifacts get the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        else:
            tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_suffixed_path(final: str | os.PathLike, default_suffix: str = ".mp4") -> Iterator[Path]:
    """``atomic_path`` for writers that choose the format by the file's suffix (OpenCV's VideoWriter): the
    temporary path ends like ``final`` (or ``default_suffix``); close the writer inside the block."""
    final = Path(final)
    with atomic_path(final) as tmp:
        staged = tmp.with_suffix(final.suffix or default_suffix)
        try:
            yield staged
            staged.replace(tmp)
        finally:
            staged.unlink(missing_ok=True)


def remove_artifact(path: Path) -> None:
    """Delete an artifact (an IR's .bin too, and its folder when that leaves it empty)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    if path.suffix == ".xml":
        path.with_suffix(".bin").unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()


def save_ir(model, out_xml: Path, compress_to_fp16: bool = False) -> Path:
    """ov.save_model into a temporary folder beside ``out_xml``, then .bin and .xml renamed into place."""
    import openvino as ov

    out_xml = Path(out_xml)
    out_xml.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_xml.parent, prefix=".ov-") as tmp:
        staged = Path(tmp) / out_xml.name
        ov.save_model(model, str(staged), compress_to_fp16=compress_to_fp16)
        os.replace(staged.with_suffix(".bin"), out_xml.with_suffix(".bin"))
        os.replace(staged, out_xml)  # the .xml last: it is what marks the IR complete
    return out_xml


def artifact_bytes(path: Path) -> int:
    """Size on disk of an artifact; an OpenVINO IR counts its .bin too."""
    path = Path(path)
    return path.stat().st_size + (path.with_suffix(".bin").stat().st_size if path.suffix == ".xml" else 0)


def check_out_dir(path: str | os.PathLike) -> Path:
    """An output folder: an existing folder, or one to create (with its parents) below an existing folder."""
    from edgeemo.errors import EdgeemoError

    out = Path(path)
    try:
        for place in (out, *out.parents):
            if place.exists():
                if not place.is_dir():
                    raise EdgeemoError(f"--out {out}: {place} is a file, not a folder")
                break
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise EdgeemoError(f"--out: {exc.strerror or exc}: {out}") from exc  # the reason first: the path may be long
    return out


def check_out_file(path: str | os.PathLike, flag: str = "--out") -> Path:
    """An output file: its folder must exist and it must not be a folder."""
    from edgeemo.errors import EdgeemoError

    out = Path(path)
    if out.is_dir():
        raise EdgeemoError(f"{flag} {out}: is a folder; give a file name")
    if not out.parent.is_dir():
        raise EdgeemoError(f"{flag} {out}: its folder {out.parent} does not exist")
    return out


@contextlib.contextmanager
def made_dir(path: Path) -> Iterator[Path]:
    """Create ``path`` (and missing parents); if the block fails or is interrupted, remove what this call created."""
    from edgeemo.errors import EdgeemoError

    first_new = None
    try:
        first_new = next((p for p in reversed((path, *path.parents)) if not p.exists()), None)
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if first_new is not None:
            shutil.rmtree(first_new, ignore_errors=True)
        raise EdgeemoError(f"cannot create the folder ({exc.strerror or exc}): {path}") from exc
    try:
        yield path
    except BaseException:
        if first_new is not None:
            shutil.rmtree(first_new, ignore_errors=True)
        raise


@contextlib.contextmanager
def removed_on_failure(folder: Path, names: Iterable[str]) -> Iterator[Path]:
    """If the block fails, delete those of ``names`` (entries of ``folder`` this command may write) that were not
    there before it: an existing output folder is left as it was found, less what was overwritten."""
    folder = Path(folder)
    new = [folder / n for n in dict.fromkeys(names) if not (folder / n).exists()]
    try:
        yield folder
    except BaseException:
        for path in new:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def package_data(packaged: str, in_checkout: str) -> Path:
    """A data folder shipped in the wheel as ``edgeemo/<packaged>`` (setup.py copies it there), else the checkout's
    ``<in_checkout>/`` beside the package (an editable install or a source tree)."""
    from importlib import resources

    installed = Path(str(resources.files("edgeemo"))) / packaged
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / in_checkout
