"""Dataset layouts (legend.csv + images/, class folders, FER2013 CSV) read into one labeled stream."""

from __future__ import annotations

import csv
import hashlib
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from edgeemo.errors import EdgeemoError

_ALIASES = {
    "happiness": "happy",
    "joy": "happy",
    "sadness": "sad",
    "angry": "anger",
    "surprised": "surprise",
    "fearful": "fear",
    "disgusted": "disgust",
    "neutrality": "neutral",
    "contemptuous": "contempt",
}
FER2013_CLASSES = ("anger", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SPLITS = ("train", "val", "test", "all")  # the parts Dataset.split gives
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".tif", ".tiff"}


class DatasetError(EdgeemoError):
    """A dataset that cannot be read or has nothing usable."""


def normalize_label(label: str) -> str:
    """'HAPPINESS' -> 'happy', 'Angry' -> 'anger'."""
    key = label.strip().lower()
    return _ALIASES.get(key, key)


@dataclass(frozen=True)
class Sample:
    label: str
    path: Path | None = None
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)
    transform: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False, repr=False)  # e.g. alignment

    @property
    def key(self) -> str:
        if self.path is not None:
            return str(self.path)
        # the content, never Python's hash(): that one changes with every process, and with it every split
        return "pixels:" + hashlib.blake2b(np.ascontiguousarray(self.pixels).tobytes(), digest_size=12).hexdigest()

    def load(self) -> np.ndarray | None:
        """The image as OpenCV reads it (gray HxW or BGR HxWx3), or None when unreadable."""
        if self.pixels is not None:
            image = self.pixels
        else:
            from edgeemo.data.preprocess import read_image

            image = read_image(self.path)
        if self.transform is None or image is None or image.size == 0:
            return image
        return self.transform(image)


def readable(samples, skipped: dict[str, int] | None = None) -> Iterator[tuple[Sample, np.ndarray]]:
    """(sample, image) for every sample whose image can be read; the others are counted in
    ``skipped['unreadable']`` (the one loop over images that train, eval, calibration and bench share)."""
    for sample in samples:
        image = sample.load()
        if image is None or image.size == 0:
            if skipped is not None:
                skipped["unreadable"] = skipped.get("unreadable", 0) + 1
            continue
        yield sample, image


@dataclass
class Dataset:
    root: Path
    layout: str
    samples: list[Sample]
    skipped: dict[str, int] = field(default_factory=dict)  # label -> count not in the model's label set

    def counts(self) -> dict[str, int]:
        return dict(Counter(s.label for s in self.samples))

    def fingerprint(self) -> str:
        """Which images carry which labels, wherever the folder lies (paths relative to the dataset's root, a CSV's
        rows by content): a copy of the data a model was trained on is recognised as that data."""
        base = self.root if self.root.is_dir() else self.root.parent
        lines = []
        for s in self.samples:
            name = s.key
            if s.path is not None and s.path.is_relative_to(base):
                name = s.path.relative_to(base).as_posix()
            lines.append(f"{name}\t{s.label}\n")
        return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()

    def restrict(self, labels: tuple[str, ...] | list[str]) -> "Dataset":
        """Keep samples whose label the model has; count the rest as skipped, never fold them."""
        if not labels:
            raise DatasetError(f"{self.root}: the model's class labels are unknown, so its outputs cannot be matched to "
                               f"the data's ({', '.join(sorted(self.counts()))}): give them in output order with "
                               "--labels (convert, eval, optimize)")
        keep = [s for s in self.samples if s.label in labels]
        skipped = Counter(s.label for s in self.samples if s.label not in labels)
        if not keep:
            raise DatasetError(
                f"{self.root}: none of the labels {sorted(self.counts())} is one the model knows ({', '.join(labels)})"
            )
        return Dataset(self.root, self.layout, keep, dict(skipped))

    def split(self, part: str, fraction: float = 0.2, seed: int = 0, test_fraction: float = 0.0) -> "Dataset":
        """Deterministic stratified split: 'train', 'val' and 'test' never share a sample.

        Per label, a seeded shuffle gives the first ``test_fraction`` to test, the next ``fraction`` to val, the rest
        to train; with ``test_fraction=0`` val and train are exactly the two-way split of earlier releases."""
        if part not in SPLITS:
            raise DatasetError(f"unknown split {part!r}: train, val, test or all")
        if part == "all":
            return self
        by_label: dict[str, list[Sample]] = {}
        for s in sorted(self.samples, key=lambda s: s.key):
            by_label.setdefault(s.label, []).append(s)
        chosen: list[Sample] = []
        for label, items in sorted(by_label.items()):
            random.Random(f"{seed}:{label}").shuffle(items)
            n_test = max(1, round(len(items) * test_fraction)) if test_fraction > 0 and len(items) > 2 else 0
            rest = items[n_test:]
            n_val = max(1, round(len(items) * fraction)) if len(rest) > 1 else 0
            chosen += {"test": items[:n_test], "val": rest[:n_val], "train": rest[n_val:]}[part]
        return Dataset(self.root, self.layout, chosen, dict(self.skipped))

    def transformed(self, transform: Callable[[np.ndarray], np.ndarray]) -> "Dataset":
        """The same samples, each image passed through ``transform`` when loaded (e.g. ``data.align.FaceAligner``)."""
        return Dataset(self.root, self.layout, [replace(s, transform=transform) for s in self.samples], dict(self.skipped))

    def take(self, n: int, seed: int = 0) -> list[Sample]:
        """Up to n samples, spread over the labels (round-robin over a seeded shuffle)."""
        by_label: dict[str, list[Sample]] = {}
        for s in sorted(self.samples, key=lambda s: s.key):
            by_label.setdefault(s.label, []).append(s)
        for label, items in by_label.items():
            random.Random(f"{seed}:{label}").shuffle(items)
        out: list[Sample] = []
        queues = [by_label[k] for k in sorted(by_label)]
        while len(out) < n and any(queues):
            for q in queues:
                if q and len(out) < n:
                    out.append(q.pop())
        return out


@dataclass(frozen=True)
class Layout:
    """A dataset layout: ``sniff(path)`` says whether ``path`` is one, ``read(path)`` reads it."""

    name: str
    sniff: Callable[[Path], bool]
    read: Callable[[Path], "Dataset"]


def _one_csv(root: Path) -> Path | None:
    """The single CSV of a folder holding no subfolders (a FER2013 export), or None."""
    if root.is_file():
        return root
    csvs = sorted(root.glob("*.csv"))
    return csvs[0] if len(csvs) == 1 and not any(p.is_dir() for p in root.iterdir()) else None


# tried in order; adding a layout: a reader and one line here (docs/architecture.md)
LAYOUTS: list[Layout] = [
    Layout("fer2013-csv", lambda p: p.is_file() or (not (p / "legend.csv").is_file() and _one_csv(p) is not None),
           lambda p: _fer2013_export(p)),
    Layout("legend.csv", lambda p: (p / "legend.csv").is_file(), lambda p: _legend_csv(p)),
    Layout("class-folders", lambda p: p.is_dir(), lambda p: _class_folders(p)),
]


def load_dataset(root: str | Path) -> Dataset:
    """Read a dataset in the first of ``LAYOUTS`` that recognises it (legend.csv + images/, class folders, a
    FER2013 CSV); labels normalised."""
    root = Path(root)
    if not root.exists():
        raise DatasetError(f"no such dataset: {root}")
    for layout in LAYOUTS:
        if layout.sniff(root):
            return layout.read(root)
    raise DatasetError(f"{root}: not a dataset layout edgeemo reads ({', '.join(layout.name for layout in LAYOUTS)})")


def _legend_csv(root: Path) -> Dataset:
    images = root / "images"
    with open(root / "legend.csv", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"image", "emotion"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{root / 'legend.csv'}: missing column(s) {', '.join(sorted(missing))}")
        rows = [(row["image"].strip(), normalize_label(row["emotion"])) for row in reader if row["image"].strip()]
    first: dict[str, str] = {}
    for image, label in rows:  # a few images are listed twice; the first row wins
        first.setdefault(image, label)
    inside = [(image, label) for image, label in first.items() if _within(images, image)]
    outside = len(first) - len(inside)
    samples = [Sample(label, images / image) for image, label in inside]
    if not samples:
        raise DatasetError(f"{root / 'legend.csv'} lists no images" + (f" inside {images} ({outside} point outside it)" if outside else ""))
    return Dataset(root, "legend.csv", samples, {"outside images/": outside} if outside else {})


def _within(folder: Path, name: str) -> bool:
    """A legend entry names a file below ``folder``: no absolute paths, no '..' out of it."""
    from pathlib import PurePath

    part = PurePath(name)
    return not part.is_absolute() and ".." not in part.parts


def _class_folders(root: Path) -> Dataset:
    samples = [
        Sample(normalize_label(folder.name), path)
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not samples:
        raise DatasetError(f"{root}: no images found (expected legend.csv + images/, <label>/*.jpg folders, or a FER2013 CSV)")
    return Dataset(root, "class-folders", samples)


def _fer2013_export(root: Path) -> Dataset:
    """A FER2013 CSV given as the file, or as the one .csv of a folder without subfolders."""
    if root.is_file() and root.suffix.lower() != ".csv":
        raise DatasetError(f"{root}: a file, not a dataset: give a folder (legend.csv + images/, or one folder of "
                           "images per class) or a FER2013 .csv")
    path = _one_csv(root)
    try:
        return _fer2013_csv(path)
    except UnicodeDecodeError:
        error = f"{path}: not a text CSV (FER2013 CSV: emotion,pixels,Usage)"
    except DatasetError as exc:
        error = str(exc)
    # a folder: say why its CSV was read at all
    raise DatasetError(error + (" (a folder with one .csv and no subfolders is read as a FER2013 export)" if root.is_dir() else ""))


def _fer2013_csv(path: Path) -> Dataset:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {"emotion", "pixels"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{path}: missing column(s) {', '.join(sorted(missing))} (FER2013 CSV: emotion,pixels,Usage)")
        samples = []
        for row in reader:
            values = np.array(row["pixels"].split(), dtype=np.uint8)
            side = int(round(len(values) ** 0.5))
            if side * side != len(values) or not row["emotion"].strip().isdigit():
                continue
            samples.append(Sample(FER2013_CLASSES[int(row["emotion"])], pixels=values.reshape(side, side)))
    if not samples:
        raise DatasetError(f"{path}: no usable rows")
    return Dataset(path, "fer2013-csv", samples)
