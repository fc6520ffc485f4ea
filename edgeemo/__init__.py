"""edgeemo: make trained facial-emotion models run well on edge devices."""

__version__ = "0.1.0"


def _no_vendor_telemetry() -> None:
    """OpenVINO and NNCF send usage telemetry unless told not to, and write a client id under ~/intel on first
    import. A kiosk toolkit sends nothing and writes nothing it was not asked to: their consent check answers
    'declined' in edgeemo's process (EDGEEMO_VENDOR_TELEMETRY=1 leaves it to the user's own opt-in)."""
    import os

    if os.environ.get("EDGEEMO_VENDOR_TELEMETRY") == "1":
        return
    try:
        from openvino_telemetry.utils import opt_in_checker
    except ImportError:
        return
    opt_in_checker.OptInChecker.check = lambda self, *args, **kwargs: opt_in_checker.ConsentCheckResult.DECLINED


_no_vendor_telemetry()
