"""edgeemo: make trained facial-emotion models run well on edge devices."""

__version__ = "0.1.0"


from edgeemo.runtime._compat import decline_vendor_telemetry  # noqa: E402  (before anything imports OpenVINO or NNCF)

decline_vendor_telemetry()
