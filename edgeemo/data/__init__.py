"""Labeled face datasets and the one preprocessing path shared by eval, calibration and the kiosk."""

from edgeemo.data.datasets import Dataset, Sample, load_dataset, normalize_label
from edgeemo.data.preprocess import preprocess, preprocess_batch

__all__ = ["Dataset", "Sample", "load_dataset", "normalize_label", "preprocess", "preprocess_batch"]
