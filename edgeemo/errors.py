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
