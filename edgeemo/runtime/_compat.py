"""What the runtime layer borrows from edgeemo, with stand-ins when it runs inside a kiosk bundle
(copied there as ``edgeemo_runtime/``, where edgeemo itself is not installed)."""

from __future__ import annotations

try:
    from edgeemo.errors import DeviceError, MissingDependencyError, ModelLoadError, first_line
    from edgeemo.quiet import quiet_native
except ImportError:  # inside a bundle
    from contextlib import nullcontext as quiet_native  # noqa: F401  (the kiosk keeps its runtime's banners)

    class ModelLoadError(Exception):  # type: ignore[no-redef]
        """A file the runtime cannot read as a model."""

    class MissingDependencyError(ModelLoadError):  # type: ignore[no-redef]
        """The runtime's package is not installed."""

    class DeviceError(ModelLoadError):  # type: ignore[no-redef]
        """A device that is not present, or a model it cannot run."""

    def first_line(exc: BaseException) -> str:
        """The first informative line of a runtime's error (OpenVINO puts its check boilerplate first)."""
        text = str(exc).strip()
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith(("Check ", "Exception from", "Traceback", "[ GENERAL_ERROR ]")):
                return line[:200]
        return text.splitlines()[0][:200] if text else type(exc).__name__


def decline_vendor_telemetry() -> None:
    """OpenVINO and NNCF send usage telemetry unless told not to, and write a client id under ~/intel on first
    import. edgeemo and its kiosk bundles send nothing and write nothing they were not asked to: the consent check
    answers 'declined' in this process (EDGEEMO_VENDOR_TELEMETRY=1 leaves it to the user's own opt-in)."""
    import os

    if os.environ.get("EDGEEMO_VENDOR_TELEMETRY") == "1":
        return
    try:
        from openvino_telemetry.utils import opt_in_checker
    except ImportError:
        return
    opt_in_checker.OptInChecker.check = lambda self, *args, **kwargs: opt_in_checker.ConsentCheckResult.DECLINED
