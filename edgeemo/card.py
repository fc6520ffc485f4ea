"""The model card: the preprocessing facts that say how to feed a model, typed, with one key list for every place
they are embedded — ``model.json``, ONNX ``metadata_props`` and OpenVINO ``rt_info`` (under ``edgeemo/``).

Everything else a card records (metrics, artifacts, calibration, hashes) rides along in ``extra`` untouched."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from edgeemo.errors import ModelLoadError
from edgeemo.models.spec import ModelSpec

# the facts embedded in artifacts (ONNX metadata_props, IR rt_info): one list for all of them
EMBEDDED = ("labels", "channel_order", "layout", "mean", "scale", "resize", "output", "source", "input_shape")
LIST_FACTS = ("labels", "mean", "scale", "input_shape")  # embedded as JSON lists; the rest as plain strings


@dataclass
class ModelCard:
    name: str
    input_size: tuple[int, int]  # (height, width)
    channel_order: str  # gray, bgr or rgb
    labels: tuple[str, ...] = ()
    mean: tuple[float, ...] = (0.0,)
    scale: tuple[float, ...] = (1.0,)
    layout: str = "NCHW"
    resize: str = "crop"
    output: str = "softmax"  # softmax or logits
    source: str | None = None
    input_shape: list[int] | None = None
    extra: dict = field(default_factory=dict)

    # --- JSON (model.json) ---
    @classmethod
    def from_dict(cls, card: dict, name: str = "model") -> "ModelCard":
        """A card dict as convert/quantize/train write it; a missing or malformed fact is one line."""
        if not isinstance(card, dict):
            raise ModelLoadError(f"{name}: not a valid model card (a JSON object was expected)")
        known = {f.name for f in fields(cls)} - {"extra"}
        try:
            shape = card.get("input_shape")
            size = card.get("input_size")
            if size is None and shape:  # ONNX metadata and IR rt_info carry the shape, not the size
                size = shape[1:3] if card.get("layout") == "NHWC" else shape[2:4]
            return cls(  # values as written; spec() checks them (ModelSpec refuses facts no model can have)
                name=str(card.get("name", name)), input_size=tuple(size), channel_order=card["channel_order"],
                labels=tuple(card.get("labels") or ()), mean=tuple(card.get("mean", (0.0,))),
                scale=tuple(card.get("scale", (1.0,))), layout=card.get("layout", "NCHW"), resize=card.get("resize", "crop"),
                output=card.get("output", "softmax"), source=card.get("source"), input_shape=list(shape) if shape else None,
                extra={k: v for k, v in card.items() if k not in known})
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ModelLoadError(f"{name}: the model card lacks or garbles a preprocessing fact ({type(exc).__name__}: {exc})") from exc

    def to_dict(self) -> dict:
        facts = {"name": self.name, "input_size": list(self.input_size), "channel_order": self.channel_order,
                 "labels": list(self.labels), "mean": list(self.mean), "scale": list(self.scale), "layout": self.layout,
                 "resize": self.resize, "output": self.output, "source": self.source, "input_shape": self.input_shape}
        return {**{k: v for k, v in facts.items() if v is not None}, **self.extra}

    @classmethod
    def read(cls, path: str | Path) -> "ModelCard":
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text()), path.parent.name or path.stem)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"{path}: not a valid model card (JSON: {exc})") from exc

    def spec(self) -> ModelSpec:
        """The preprocessing facts in the form the zoo and the data path use (checked there)."""
        return ModelSpec(name=self.name, input_size=tuple(self.input_size), channel_order=self.channel_order,
                         labels=tuple(self.labels), mean=tuple(self.mean), scale=tuple(self.scale), layout=self.layout,
                         resize=self.resize, output=self.output)

    # --- embedded in artifacts ---
    def embedded(self) -> dict[str, str]:
        """The EMBEDDED facts as strings (JSON for everything that is not already a string)."""
        values = self.to_dict()
        return {k: v if isinstance(v, str) else json.dumps(v) for k in EMBEDDED if (v := values.get(k)) is not None}

    @classmethod
    def from_embedded(cls, props: dict[str, str], name: str) -> "ModelCard | None":
        """A card from embedded facts (None when the artifact carries none)."""
        if "channel_order" not in props:
            return None
        card: dict = {}
        for key, text in props.items():
            if key not in EMBEDDED:
                continue
            if key not in LIST_FACTS:
                card[key] = text
            elif text.startswith("["):
                try:
                    card[key] = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ModelLoadError(f"{name}: its embedded {key} is not valid JSON: {exc}") from exc
            else:  # IRs written before the facts were JSON here: comma-joined
                parts = text.split(",")
                card[key] = parts if key == "labels" else [_number(p) for p in parts]
        return cls.from_dict(card, name)

    def write_onnx(self, model) -> None:
        """Into an ``onnx.ModelProto``'s metadata_props (the caller saves it)."""
        import onnx

        onnx.helper.set_model_props(model, self.embedded())

    @classmethod
    def from_onnx(cls, path: str | Path) -> "ModelCard | None":
        import onnx

        try:
            props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        except Exception as exc:
            raise ModelLoadError(f"{path}: not a readable ONNX file: {str(exc).splitlines()[0][:200]}") from exc
        return cls.from_embedded(props, Path(path).stem)

    def write_rt_info(self, model) -> None:
        """Into an ``openvino.Model``'s rt_info under edgeemo/ (the caller saves it)."""
        for key, value in self.embedded().items():
            model.set_rt_info(value, ["edgeemo", key])

    @staticmethod
    def copy_rt_info(source, target) -> None:
        """The embedded facts of one ``openvino.Model`` onto another (e.g. a quantized copy)."""
        for key in EMBEDDED:
            if source.has_rt_info(["edgeemo", key]):
                target.set_rt_info(source.get_rt_info(["edgeemo", key]).astype(str), ["edgeemo", key])

    @classmethod
    def from_ir(cls, path: str | Path) -> "ModelCard | None":
        import openvino as ov

        model = ov.Core().read_model(str(path))
        props = {key: model.get_rt_info(["edgeemo", key]).astype(str) for key in EMBEDDED if model.has_rt_info(["edgeemo", key])}
        return cls.from_embedded(props, Path(path).stem)


def _number(text: str) -> float | int | str:
    try:
        value = float(text)
    except ValueError:
        return text  # left for ModelSpec to refuse
    return int(value) if value.is_integer() and "." not in text else value
