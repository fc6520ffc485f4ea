"""edgeemo: make trained facial-emotion models run well on edge devices."""

__version__ = "0.1.0"
