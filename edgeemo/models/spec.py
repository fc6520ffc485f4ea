"""ModelSpec: every fact needed to feed a model and read its output."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal

ChannelOrder = Literal["bgr", "rgb", "gray"]
ResizePolicy = Literal["squash", "letterbox", "crop"]

RETAIL_LABELS: tuple[str, ...] = ("neutral", "happy", "sad", "surprise", "anger")
FER2013_LABELS: tuple[str, ...] = ("anger", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@dataclass(frozen=True)
class ModelSpec:
    """Preprocessing and output facts of one model.

    The network input is ``(pixel - mean) / scale`` per channel, where pixels are 0..255 in
    ``channel_order`` (the OpenVINO mean_values/scale_values convention).
    """

    name: str
    input_size: tuple[int, int]  # (height, width)
    channel_order: ChannelOrder
    labels: tuple[str, ...]
    mean: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (1.0,)
    layout: str = "NCHW"
    resize: ResizePolicy = "crop"
    output: Literal["softmax", "logits"] = "softmax"
    description: str = ""
    factory: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @property
    def channels(self) -> int:
        return 1 if self.channel_order == "gray" else 3

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def input_shape(self, batch: int = 1) -> tuple[int, ...]:
        """Input shape in this spec's layout."""
        h, w = self.input_size
        if self.layout == "NHWC":
            return (batch, h, w, self.channels)
        return (batch, self.channels, h, w)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts (without the factory)."""
        d = asdict(self)
        d.pop("factory", None)
        d["input_shape"] = list(self.input_shape())
        for key in ("input_size", "labels", "mean", "scale"):
            d[key] = list(d[key])
        return d
