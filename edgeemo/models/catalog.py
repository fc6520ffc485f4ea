"""The zoo's specs: the preprocessing facts of every architecture, readable without importing PyTorch.

Each factory is named as ``module:function`` and imported only when a model is built (``create_model``), so commands
on converted artifacts (bench, eval, run, deploy) and ``--help`` start without loading torch.
"""

from __future__ import annotations

from edgeemo.models.spec import RETAIL_LABELS, ModelSpec

_GRAY64 = dict(input_size=(64, 64), channel_order="gray", labels=RETAIL_LABELS, mean=(127.5,), scale=(127.5,))

ZOO: tuple[ModelSpec, ...] = (
    ModelSpec(name="emonet-resnet10", input_size=(64, 64), channel_order="bgr", labels=RETAIL_LABELS, mean=(0.0, 0.0, 0.0),
              scale=(1.0, 1.0, 1.0), resize="crop", output="softmax",
              description="emotions-recognition-retail-0003 topology (ResNet-10, 62.99M MACC)",
              factory="edgeemo.models.emonet:emonet_resnet10"),
    ModelSpec(name="mini-xception", resize="crop", output="softmax", description="mini-Xception, 64x64 gray, the 5 retail-0003 classes",
              factory="edgeemo.models.mini_xception:mini_xception", **_GRAY64),
    ModelSpec(name="resnet18", description="ResNet-18, 3x3/2 stem for 64x64 gray faces", factory="edgeemo.models.resnet:resnet18", **_GRAY64),
    ModelSpec(name="se-resnet18", description="ResNet-18 with squeeze-excitation, 64x64 gray faces",
              factory="edgeemo.models.resnet:se_resnet18", **_GRAY64),
    ModelSpec(name="mobilenetv2", description="MobileNetV2 width 1.0 at 64x64 gray faces", factory="edgeemo.models.mobilenet:mobilenetv2",
              **_GRAY64),
    ModelSpec(name="emolite", description="edgeemo's compact design for <= 16M MACC (a quarter of retail-0003)",
              factory="edgeemo.models.emolite:emolite", **_GRAY64),
    ModelSpec(name="emofast", resize="crop", output="softmax",
              description="plain 3x3 convolutions (no depthwise): the shape OpenVINO INT8 speeds up on AVX2",
              factory="edgeemo.models.emofast:emofast", **_GRAY64),
    ModelSpec(name="emofast-pruned", resize="crop", output="softmax",
              description="emofast pruned to 7.9M MACC (stem 16, widths 32-48-96) and fine-tuned",
              factory="edgeemo.models.emofast:emofast_pruned", **_GRAY64),
)
