"""Training: ``train(TrainConfig)``."""

from edgeemo.train.trainer import EpochLog, TrainConfig, TrainResult, train

__all__ = ["EpochLog", "TrainConfig", "TrainResult", "train"]
