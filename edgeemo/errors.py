"""The project's error types. The CLI maps each to one line on stderr and a non-zero exit."""


class EdgeemoError(Exception):
    """Base class: a problem the user can fix, reported as one line."""

    exit_code = 2


class UnknownModelError(EdgeemoError):
    """A name that is neither a zoo entry nor an existing file."""


class ModelLoadError(EdgeemoError):
    """A file that exists but cannot be read as the model format it claims to be."""


class ShapeError(EdgeemoError):
    """An input shape that is missing, dynamic where it must be static, or does not fit the model."""


class MissingDependencyError(EdgeemoError):
    """An optional framework (TensorFlow, LiteRT, ...) is needed but not installed."""


class DeviceError(EdgeemoError):
    """A device that is not present, or a model the device cannot run as it is."""


class Interrupted(BaseException):
    """Ctrl-C: a BaseException so no ``except Exception`` swallows it; ``finally`` blocks still remove temporary files."""


def first_line(exc: BaseException) -> str:
    """The first informative line of an exception from a framework (skips OpenVINO's check boilerplate)."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Check ", "Exception from", "Traceback", "FrontEnd API failed", "[ GENERAL_ERROR ]")):
            return line[:300]
    return text.splitlines()[0][:300] if text else type(exc).__name__
