"""ModelSpec: every fact needed to feed a model and read its output."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal, get_args

ChannelOrder = Literal["bgr", "rgb", "gray"]
ResizePolicy = Literal["squash", "letterbox", "crop"]
CHANNEL_ORDERS: tuple[str, ...] = get_args(ChannelOrder)
RESIZE_POLICIES: tuple[str, ...] = get_args(ResizePolicy)

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
    factory: Callable[..., Any] | str | None = field(default=None, compare=False, repr=False)  # or "module:function"

    def __post_init__(self) -> None:
        """Refuse facts no model can have (they reach here from cards and flags as well as from the zoo)."""
        import math

        from edgeemo.errors import ModelLoadError

        def bad(what: str) -> ModelLoadError:
            return ModelLoadError(f"{self.name}: {what}")

        size = self.input_size
        if (len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
                or not all(1 <= v <= 4096 for v in size)):
            raise bad(f"input size {list(size)} is not two sides of 1..4096 pixels")
        if self.channel_order not in CHANNEL_ORDERS:
            raise bad(f"channel order {self.channel_order!r} is not gray, bgr or rgb")
        if self.layout not in ("NCHW", "NHWC"):
            raise bad(f"layout {self.layout!r} is not NCHW or NHWC")
        if self.resize not in RESIZE_POLICIES:
            raise bad(f"resize policy {self.resize!r} is not squash, letterbox or crop")
        if self.output not in ("softmax", "logits"):
            raise bad(f"output {self.output!r} is not softmax or logits")
        if not all(isinstance(label, str) and label for label in self.labels) or len(set(self.labels)) != len(self.labels):
            raise bad("labels must be distinct non-empty names")
        for key, values in (("mean", self.mean), ("scale", self.scale)):
            if len(values) not in (1, self.channels) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
                raise bad(f"{key} {list(values)} is not 1 or {self.channels} finite numbers")
        if any(v <= 0 for v in self.scale):
            raise bad(f"scale {list(self.scale)} must be positive")

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
