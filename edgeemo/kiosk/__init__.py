"""The kiosk loop: frames -> faces -> emotions -> privacy-safe aggregates.

Needs only numpy and OpenCV, so `edgeemo deploy` copies this package into every bundle unchanged
(as ``edgeemo_kiosk``); the classifier is passed in as a function. Nothing here writes or sends a
face image, crop, embedding or identity: the only output is ``IntervalAggregator``'s counts.
"""

from .aggregate import IntervalAggregator
from .classify import make_classifier, probabilities
from .blazeface import BlazeFaceDetector, Faces, aligned_crop
from .detect import DETECTORS, HaarFaceDetector, make_detector
from .pipeline import (
    DEFAULTS,
    FrameResult,
    KioskPipeline,
    RunSummary,
    StageTimes,
    open_source,
    parse_interval,
    run_stream,
)
from .track import IoUTracker, Track

__all__ = [
    "DEFAULTS", "DETECTORS", "BlazeFaceDetector", "Faces", "FrameResult", "HaarFaceDetector", "aligned_crop", "IntervalAggregator", "IoUTracker", "KioskPipeline",
    "RunSummary", "StageTimes", "Track", "make_classifier", "make_detector", "open_source", "parse_interval", "probabilities",
    "run_stream",
]
