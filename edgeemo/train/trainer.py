"""Train a zoo architecture (or --arch module:Class) on labeled faces: CPU-friendly, resumable, reproducible."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from edgeemo.data import load_dataset
from edgeemo.data.datasets import DatasetError, readable
from edgeemo.data.preprocess import normalize, to_pixels
from edgeemo.errors import EdgeemoError
from edgeemo.evaluate.metrics import classification_metrics
from edgeemo.fsutil import atomic_path
from edgeemo.models import ModelSpec, get_spec
from edgeemo.safeload import torch_load
from edgeemo.train.augment import augment

if TYPE_CHECKING:
    import torch


@dataclass
class TrainConfig:
    arch: str
    data: str
    out: str
    epochs: int = 30
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    balance: float = 0.5  # sampling weight per image = count(class) ** -balance (0: natural, 1: fully balanced)
    patience: int = 8
    val_fraction: float | None = None  # None: 0.2, or the zoo card's with --init zoo on the data it was trained on
    test_fraction: float | None = None  # held out: never trained on, never used to pick an epoch (three-way split when > 0)
    logit_adjust: float = 0.0  # balanced-softmax strength tau: train on p * prior**tau (rare classes get larger margins)
    photometric: bool = False  # extra augmentation for other cameras/light: CLAHE, equalisation, gamma, blur, noise
    mixup: float = 0.0  # Beta(a, a) blend of each batch with a shuffled copy, labels blended alike (0 = off)
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and saved instead (0 = off)
    align: bool = False  # eyes turned level with BlazeFace keypoints (edgeemo.data.align), as the kiosk's --align
    fold_labels: dict[str, str] = field(default_factory=dict)  # e.g. {"disgust": "anger"}: extra training images only
    seed: int = 0
    split_seed: int | None = None  # seed of the train/val/test split alone (None: ``seed``): other seeds, same split
    limit: int | None = None
    init: str | None = None  # "zoo" or a state-dict path
    threads: int | None = None
    teacher: str | list[str] | None = None  # soft targets from other models (knowledge distillation; several: averaged)
    distill_weight: float = 0.5
    distill_temperature: float = 1.0  # both distributions softened by T (Hinton et al.), the term scaled by T**2
    erase: float = 0.0  # probability of random erasing: one rectangle of 2-20% of the face filled with noise (0 = off)
    low_res: float = 0.0  # probability of a low-resolution view: shrunk to 3/8-3/4 of its side, upscaled back (0 = off)
    classifier_only: bool = False  # decoupled training's 2nd stage (cRT): only the last linear layer learns, on --init
    calibrate: bool = True  # temperature scaling on the validation split, folded into the last layer (no arg-max changes)
    qat: bool = False  # NNCF quantization-aware fine-tuning of trained weights -> INT8 OpenVINO IR
    qat_calibration: int = 300  # training images that initialise the quantizer ranges
    command: str = ""


@dataclass
class EpochLog:
    epoch: int
    loss: float
    train_accuracy: float
    val_accuracy: float
    val_macro_recall: float
    seconds: float


@dataclass
class TrainResult:
    weights: str
    card: str
    best_epoch: int
    validation: dict
    history: list[EpochLog] = field(default_factory=list)
    calibration: dict | None = None  # temperature scaling (edgeemo.train.calibrate), when done


def _load_pixels(dataset, spec: ModelSpec, labels: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
    images, ys, skipped = [], [], {}
    for s, im in readable(dataset.samples, skipped):
        images.append(to_pixels(im, spec))
        ys.append(labels.index(s.label))
    if not images:
        raise DatasetError(f"{dataset.root}: no readable images")
    return np.stack(images), np.array(ys, dtype=np.int64), skipped.get("unreadable", 0)


def _with_split(cfg: TrainConfig) -> TrainConfig:
    """Unset split fractions: the zoo weights' own split when fine-tuning them (--init zoo) on the data they were trained
    on (so their val and test images stay out of training; ``plan_split``'s rule), else val 0.2 and no test split.
    Unset split seed: the zoo weights' split seed in that case (whatever ``seed`` is), else ``seed``."""
    from edgeemo.evaluate import SplitPlan, plan_split

    own = plan_split(cfg.arch, cfg.data, "val") if cfg.init == "zoo" else SplitPlan("val")
    return replace(cfg, val_fraction=own.val_fraction if cfg.val_fraction is None else cfg.val_fraction,
                   test_fraction=own.test_fraction if cfg.test_fraction is None else cfg.test_fraction,
                   split_seed=cfg.split_seed if cfg.split_seed is not None else own.seed if own.own else cfg.seed)


def _cap_torch_onednn_at_avx2() -> None:
    """Make PyTorch's oneDNN train with its AVX2 kernels, leaving OpenVINO's oneDNN at the CPU's full ISA.

    oneDNN's AVX-512 1x1 strided-convolution weight gradient (torch 2.13 CPU) segfaults on mini-xception's residual
    projections (found with gdb; again on a Xeon with AMX); its AVX2 kernels train as fast. oneDNN reads
    ONEDNN_MAX_CPU_ISA once, at its first primitive, so the variable is set for one small convolution only:
    OpenVINO's CPU plugin reads the same variable and, capped at AVX2 on an AMX CPU, cannot build the bf16
    kernels it chooses there ("Supported primitive descriptors list is empty"). A user's own setting stands;
    a process whose PyTorch already ran a oneDNN primitive keeps the ISA it started with.
    """
    if "ONEDNN_MAX_CPU_ISA" in os.environ:
        return
    os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    try:
        import torch

        with torch.no_grad():  # large enough for PyTorch to hand it to oneDNN
            torch.nn.functional.conv2d(torch.zeros(2, 16, 16, 16), torch.zeros(16, 16, 3, 3))
    finally:
        del os.environ["ONEDNN_MAX_CPU_ISA"]


def train(cfg: TrainConfig, on_epoch: Callable[[EpochLog], None] = lambda log: None,
          on_batch: Callable[[int, int], None] = lambda done, total: None) -> TrainResult:
    _check_options(cfg)
    _cap_torch_onednn_at_avx2()
    import torch

    from edgeemo.models import create_model

    cfg = _with_split(cfg)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    spec = get_spec(cfg.arch)
    labels = list(spec.labels)
    dataset = load_dataset(cfg.data)
    if not any(s.label in labels for s in dataset.samples):
        raise DatasetError(f"{cfg.data}: none of its labels {sorted(dataset.counts())} is one {cfg.arch} outputs ({', '.join(labels)})")
    folded = _folded(dataset, cfg.fold_labels, labels)
    dataset = dataset.restrict(tuple(labels))
    train_set, val_set = (dataset.split(part, cfg.val_fraction, cfg.split_seed, cfg.test_fraction) for part in ("train", "val"))
    train_set.samples = train_set.samples + folded  # the val and test splits stay those of the unfolded labels
    if not val_set.samples or not train_set.samples:
        small = {k: v for k, v in dataset.counts().items() if v < 2}
        raise DatasetError(f"{cfg.data}: the {'validation' if not val_set.samples else 'training'} split is empty: every class needs "
                           f"at least 2 images (one to train on, one to validate; {len(dataset.samples)} images"
                           + (f", too few in {', '.join(sorted(small))}" if small else "") + ")")
    if cfg.limit:
        train_set.samples = train_set.take(cfg.limit, cfg.seed)
        val_set.samples = val_set.take(max(len(labels), cfg.limit // 4), cfg.seed)
    aligner = None
    if cfg.align:
        from edgeemo.data.align import FaceAligner

        aligner = FaceAligner(threads=cfg.threads or 1)
        train_set, val_set = train_set.transformed(aligner), val_set.transformed(aligner)
    x_train, y_train, bad_train = _load_pixels(train_set, spec, labels)
    x_val, y_val, bad_val = _load_pixels(val_set, spec, labels)
    x_val_t = torch.from_numpy(normalize(x_val, spec))

    if cfg.init == "zoo":
        from edgeemo.models import weights_path

        if weights_path(cfg.arch) is None:
            raise EdgeemoError(f"--init zoo: {cfg.arch} has no zoo weights (see `edgeemo models`)")
    model = create_model(cfg.arch, pretrained=cfg.init == "zoo")
    if cfg.init and cfg.init != "zoo":
        from edgeemo.sources import load_checkpoint_into

        load_checkpoint_into(model, Path(cfg.init), None, f"--init {cfg.init}", cfg.arch)
    if cfg.qat:
        from edgeemo.train.qat import quantize_for_training

        pick = np.random.default_rng(cfg.seed).permutation(len(x_train))[: cfg.qat_calibration]
        model = quantize_for_training(model, normalize(x_train[np.sort(pick)], spec))
    if cfg.classifier_only:
        _freeze_all_but_classifier(model)
    teacher = _teacher(cfg, spec, x_train) if cfg.teacher else None
    averaged = _ema(model, cfg.ema) if cfg.ema else None
    kept = averaged.module if averaged is not None else model  # the weights validated, saved and resumed as the result

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    counts = np.bincount(y_train, minlength=len(labels)).astype(np.float64)
    sample_weight = (np.maximum(counts, 1) ** -cfg.balance)[y_train]
    sample_weight /= sample_weight.sum()
    seen = np.bincount(y_train, weights=sample_weight, minlength=len(labels))
    log_prior = torch.from_numpy(np.log(np.maximum(seen, 1e-12)).astype(np.float32))  # class prior the sampler shows
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, len(x_train) // cfg.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, cfg.lr, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.15)

    state = {"epoch": 0, "best": -1.0, "best_epoch": 0, "stale": 0, "history": []}
    last = out / "last.pt"
    if last.is_file():  # resume
        ckpt = torch_load(last)
        if not isinstance(ckpt, dict) or not {"model", "optimizer", "state", "config"} <= set(ckpt):
            raise EdgeemoError(f"{last} is not an edgeemo training checkpoint; use another --out")
        if ckpt.get("config", {}).get("arch") != cfg.arch:
            raise EdgeemoError(f"{last} belongs to {ckpt.get('config', {}).get('arch')}, not {cfg.arch}; use another --out")
        if averaged is not None and "ema" not in ckpt:
            raise EdgeemoError(f"{last} was trained without --ema; resume without it or use another --out")
        _check_resumable(last, ckpt["config"], cfg)
        model.load_state_dict(ckpt["model"])
        if averaged is not None:
            averaged.load_state_dict(ckpt["ema"])
        optimizer.load_state_dict(ckpt["optimizer"])
        state = ckpt["state"]
        if ckpt["config"].get("epochs") == cfg.epochs:
            scheduler.load_state_dict(ckpt["scheduler"])
        else:  # more (or fewer) epochs than first asked: the schedule stretches from where training stands
            scheduler.last_epoch = min(state["epoch"] * steps_per_epoch, cfg.epochs * steps_per_epoch) - 1
            scheduler._step_count = scheduler.last_epoch + 1

    from edgeemo.profile import profile

    cost, fingerprint = profile(cfg.arch), dataset.fingerprint()  # once: a card is written at every best epoch

    def card_of(validation: dict) -> dict:
        return _card(cfg, spec, cost, validation, state, len(x_train), len(x_val), bad_train + bad_val, dataset,
                     fingerprint)

    rng = np.random.default_rng(cfg.seed + 1000 * state["epoch"])
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        t0 = time.perf_counter()
        model.train(not cfg.classifier_only)  # frozen features keep their BatchNorm statistics
        order = rng.choice(len(x_train), size=steps_per_epoch * cfg.batch_size, p=sample_weight)
        losses, correct = [], 0
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            batch = np.stack([augment(x_train[i], rng, photometric=cfg.photometric, erase=cfg.erase, low_res=cfg.low_res) for i in idx])
            y = torch.from_numpy(y_train[idx])
            lam, partner = 1.0, None
            if cfg.mixup:
                lam, partner = float(rng.beta(cfg.mixup, cfg.mixup)), rng.permutation(len(idx))
                batch = np.clip(np.rint(lam * batch + (1 - lam) * batch[partner].astype(np.float32)), 0, 255).astype(np.uint8)
            x = torch.from_numpy(normalize(batch, spec))
            log_p = torch.log(model(x).clamp_min(1e-7)) if spec.output == "softmax" else torch.log_softmax(model(x), 1)
            fit_p = torch.log_softmax(log_p + cfg.logit_adjust * log_prior, 1) if cfg.logit_adjust else log_p
            loss = _smoothed_nll(fit_p, y, cfg.label_smoothing)
            if partner is not None:
                loss = lam * loss + (1 - lam) * _smoothed_nll(fit_p, y[partner], cfg.label_smoothing)
            if teacher is not None:
                with torch.no_grad():
                    soft = torch.from_numpy(teacher(batch))
                loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * _distillation(soft, log_p, cfg.distill_temperature)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            if averaged is not None:
                averaged.update_parameters(model)
            losses.append(float(loss.detach()))
            correct += int((log_p.argmax(1) == y).sum())
            on_batch(step + 1, steps_per_epoch)
        metrics = _validate(kept, x_val_t, y_val, labels)
        log = EpochLog(epoch, float(np.mean(losses)), correct / len(order), metrics["accuracy"], metrics["macro_recall"],
                       time.perf_counter() - t0)
        state["history"].append(asdict(log))
        state["epoch"] = epoch
        if metrics["macro_recall"] > state["best"]:
            state.update(best=metrics["macro_recall"], best_epoch=epoch, stale=0)
            _save_weights(kept, out / "weights.pt", fp16=not cfg.qat)
            if not cfg.qat:  # the checkpoint's own card beside it: `eval` and `bench` read a run still training
                _write_card(out, card_of(_plain(metrics)), aligner, finished=False)
        else:
            state["stale"] += 1
        with atomic_path(last) as tmp:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "state": state, "config": asdict(cfg), **({"ema": averaged.state_dict()} if averaged is not None else {})}, tmp)
        on_epoch(log)
        if state["stale"] >= cfg.patience:
            break

    best_state = {k: v.float() for k, v in torch_load(out / "weights.pt").items()}
    best = model if cfg.qat else create_model(cfg.arch, pretrained=False)  # a QAT state dict needs its quantizers
    best.load_state_dict(best_state)
    calibration = _calibration_done(out, state["best_epoch"])  # a resumed run whose best epoch was calibrated already
    from edgeemo.train.calibrate import MIN_IMAGES

    if cfg.calibrate and not cfg.qat and calibration is None:
        if len(y_val) < MIN_IMAGES:
            calibration = {"skipped": f"{len(y_val)} validation images; a temperature needs {MIN_IMAGES} or more"}
        else:
            try:
                best, done = calibrate_weights(best, out / "weights.pt", x_val_t, y_val, spec.output,
                                               f"the validation split ({len(y_val)} images)")
                calibration = asdict(done)
            except EdgeemoError as exc:  # an architecture it cannot fold into: the trained weights stand as they are
                calibration = {"skipped": str(exc)}
    validation = _plain(_validate(best, x_val_t, y_val, labels))
    card = card_of(validation)
    if calibration is not None:
        card["calibration"] = calibration
    if cfg.qat:
        card["weights"] = "weights.pt (QAT state dict with NNCF's quantizer parameters, FP32)"
        card["qat"] = _export_qat(best, spec, card, out, x_val_t.numpy(), y_val, labels)
    _write_card(out, card, aligner, finished=True)
    _plot(state["history"], out / "curve.png")
    history = [EpochLog(**h) for h in state["history"]]
    return TrainResult(str(out / "weights.pt"), str(out / "model.json"), state["best_epoch"], validation, history,
                       calibration)


def _calibration_done(out: Path, best_epoch: int) -> dict | None:
    """The calibration recorded by a finished run of ``out`` when its weights.pt is still that run's best epoch."""
    try:
        card = json.loads((out / "model.json").read_text())
    except (OSError, ValueError):
        return None
    same = card.get("training", {}).get("finished") and card["training"].get("best_epoch") == best_epoch
    return card.get("calibration") if same else None


def calibrate_weights(model, weights: Path, x, y: np.ndarray, output: str, fitted_on: str):
    """Temperature scaling folded into ``model``'s last layer (edgeemo.train.calibrate), stored in ``weights`` (FP16)
    and read back, so what is validated is what is stored. Returns (model, Calibration)."""
    from edgeemo.train.calibrate import calibrate

    calibration = calibrate(model, x, y, output, fitted_on)
    _save_weights(model, weights)
    model.load_state_dict({k: v.float() for k, v in torch_load(weights).items()})
    return model, calibration


def _distillation(soft: torch.Tensor, log_p: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cross-entropy of the student's log-probabilities against the teachers' probabilities, both softened by
    ``temperature`` and scaled by its square (so the gradient's size does not shrink as T grows)."""
    import torch

    if temperature == 1.0:
        return -(soft * log_p).sum(1).mean()
    soft_t = torch.softmax(torch.log(soft.clamp_min(1e-7)) / temperature, 1)
    return -(soft_t * torch.log_softmax(log_p / temperature, 1)).sum(1).mean() * temperature ** 2


def _folded(dataset, fold_labels: dict[str, str], labels: list[str]) -> list:
    """Samples of labels the model lacks, relabelled per ``fold_labels`` (all of them go to training)."""
    for source, target in fold_labels.items():
        if target not in labels:
            raise EdgeemoError(f"--fold-label {source}={target}: {target!r} is not a class of this model ({', '.join(labels)})")
        if source in labels:
            raise EdgeemoError(f"--fold-label {source}={target}: {source!r} is already a class of this model")
    return [replace(s, label=fold_labels[s.label]) for s in dataset.samples if s.label in fold_labels]


def _ema(model, decay: float):
    """A running average of ``model``'s weights and BN statistics, updated after every optimizer step."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _smoothed_nll(log_p, y, eps: float):
    nll = -log_p.gather(1, y[:, None]).squeeze(1)
    return ((1 - eps) * nll - eps * log_p.mean(1)).mean()


def _check_options(cfg: TrainConfig) -> None:
    """Options that cannot go together, refused before any image is read."""
    if cfg.qat and not cfg.init:
        raise EdgeemoError("--qat fine-tunes trained weights: give --init zoo or --init WEIGHTS.pt")
    if cfg.qat and cfg.ema:
        raise EdgeemoError("--ema averages float weights; it does not combine with --qat")
    if cfg.classifier_only and not cfg.init:
        raise EdgeemoError("--classifier-only re-trains the classifier of trained features: give --init zoo or --init WEIGHTS.pt")
    if cfg.classifier_only and cfg.qat:
        raise EdgeemoError("--classifier-only and --qat: choose one")


def _freeze_all_but_classifier(model) -> None:
    """Only the model's last linear layer keeps learning (Kang et al., decoupled training: classifier re-training)."""
    import torch

    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise EdgeemoError("--classifier-only: this model has no linear classifier layer")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for parameter in linears[-1].parameters():
        parameter.requires_grad_(True)


def _plain(metrics: dict) -> dict:
    """Validation metrics with per-class results as plain dicts (JSON)."""
    return {**metrics, "per_class": {k: asdict(v) for k, v in metrics["per_class"].items()}}


def _write_card(out: Path, card: dict, aligner, finished: bool) -> None:
    """model.json beside weights.pt; ``finished`` False while training (the figures are then the checkpoint's epoch's,
    computed before its weights were stored in FP16)."""
    if aligner is not None:
        card["align"] = True  # eval and the kiosk align by default for this model
        card["data"]["alignment"] = aligner.stats.to_dict()
    card["training"]["finished"] = finished
    with atomic_path(out / "model.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2) + "\n")


def _validate(model, x, y, labels: list[str]) -> dict:
    import torch

    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 256]).argmax(1) for i in range(0, len(x), 256)]).numpy()
    return classification_metrics(y, pred, labels)


def _save_weights(model, path: Path, fp16: bool = True) -> None:
    """FP16 state dict (the zoo keeps weights small); BN running stats stay FP32 for exactness."""
    import torch

    state = {k: (v.half() if fp16 and v.is_floating_point() and "running" not in k else v) for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _export_qat(model, spec: ModelSpec, card: dict, out: Path, x_val: np.ndarray, y_val: np.ndarray, labels: list[str]) -> dict:
    """The best QAT model as an INT8 IR (out/openvino-int8/model.xml), measured on the validation split."""
    import openvino as ov

    from edgeemo.runtime import load
    from edgeemo.train.qat import export_int8_ir

    xml = export_int8_ir(model, [1, spec.channels, *spec.input_size], card, out / "openvino-int8" / "model.xml")
    runner = load(xml, precision="f32")  # OpenVINO, f32 inference precision outside the INT8 layers; batch-1 IR: one image at a time
    metrics = classification_metrics(y_val, runner.infer(x_val).argmax(1), labels)
    fq = sum(op.get_type_name() == "FakeQuantize" for op in ov.Core().read_model(str(xml)).get_ops())
    return {"int8_ir": "openvino-int8/model.xml", "fake_quantize_ops": fq,
            "int8_ir_validation": {"accuracy": metrics["accuracy"], "macro_recall": metrics["macro_recall"],
                                   "macro_f1": metrics["macro_f1"]},
            "note": "FakeQuantize ranges learned in training; the IR runs INT8 where OpenVINO supports it"}


def _teacher(cfg: TrainConfig, spec: ModelSpec, _x) -> Callable[[np.ndarray], np.ndarray]:
    """Soft targets over the student's labels from one teacher model (any model edgeemo can run) or the mean of several."""
    from edgeemo.predictor import load_predictor

    refs = [cfg.teacher] if isinstance(cfg.teacher, str) else list(cfg.teacher)
    teachers = []
    for ref in refs:
        teacher = load_predictor(ref)
        missing = [label for label in spec.labels if label not in teacher.spec.labels]
        if missing:
            raise EdgeemoError(f"teacher {ref} has no {missing[0]!r} output")
        teachers.append((teacher, [teacher.spec.labels.index(label) for label in spec.labels]))

    def soft(pixels: np.ndarray) -> np.ndarray:
        from edgeemo.data.preprocess import preprocess

        mean = np.zeros((len(pixels), len(spec.labels)), np.float64)
        for teacher, columns in teachers:
            x = np.stack([preprocess(p[:, :, ::-1] if spec.channel_order == "rgb" else p, teacher.spec) for p in pixels])
            p = np.asarray(teacher.predict(x), np.float64)[:, columns]
            mean += p / p.sum(1, keepdims=True)
        return (mean / len(teachers)).astype(np.float32)

    return soft


RESUME_MAY_CHANGE = {"epochs", "patience", "threads", "out", "command", "calibrate"}


def _check_resumable(last: Path, saved: dict, cfg: TrainConfig) -> None:
    """A run resumes only with the options it started with (data, split, recipe, teachers...): the epochs already
    validated would otherwise be compared with epochs of another experiment. --epochs, --patience and --threads may
    change."""
    defaults = asdict(TrainConfig(arch=cfg.arch, data=cfg.data, out=cfg.out))

    def as_paths(value) -> list[str]:  # the same file however it is written
        return [str(Path(x).resolve()) if Path(x).exists() else x for x in ([value] if isinstance(value, str) else value or [])]

    def same(key: str, a, b) -> bool:
        return as_paths(a) == as_paths(b) if key in ("data", "init", "teacher") else a == b

    for key, value in asdict(cfg).items():
        before = saved.get(key, defaults.get(key))
        if key not in RESUME_MAY_CHANGE and not same(key, before, value):
            flag = "--" + key.replace("_", "-")
            raise EdgeemoError(f"{last} was trained with {flag} {before}; this run asks {value}: resume with the same "
                               "options (only --epochs, --patience and --threads may change) or use another --out")


def _card(cfg, spec, cost, validation, state, n_train, n_val, unreadable, dataset, fingerprint: str) -> dict:
    return {
        **spec.to_dict(),
        "architecture": cfg.arch,
        "macc": cost.macc,
        "params": cost.params,
        "weights": "weights.pt (state dict, FP16 storage)",
        "training": {
            "command": cfg.command or " ".join(shlex.quote(a) for a in sys.argv),
            "config": {k: v for k, v in asdict(cfg).items() if k != "command"},
            "seed": cfg.seed,
            "best_epoch": state["best_epoch"],
            "epochs_run": state["epoch"],
        },
        "data": {
            "source": str(cfg.data),
            "layout": dataset.layout,
            "fingerprint": fingerprint,  # eval recognises a copy of this data elsewhere (its own split)
            "train_images": n_train,
            "val_images": n_val,
            "unreadable": unreadable,
            "skipped_labels": dataset.skipped,
            "split": f"stratified, val fraction {cfg.val_fraction}, test fraction {cfg.test_fraction}, seed {cfg.split_seed}",
            "split_fractions": {"val": cfg.val_fraction, "test": cfg.test_fraction, "seed": cfg.split_seed},
            **({"folded_labels": {f"{k}->{v}": dataset.skipped.get(k, 0) for k, v in cfg.fold_labels.items()}}
               if cfg.fold_labels else {}),
        },
        "validation": {k: validation[k] for k in ("accuracy", "macro_recall", "macro_f1", "per_class", "confusion")},
        "history": state["history"],
    }


def _plot(history: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    ax[0].plot(epochs, [h["loss"] for h in history], marker="o")
    ax[0].set(title="training loss", xlabel="epoch")
    ax[1].plot(epochs, [h["val_accuracy"] for h in history], marker="o", label="val accuracy")
    ax[1].plot(epochs, [h["val_macro_recall"] for h in history], marker="o", label="val macro recall")
    ax[1].set(title="validation", xlabel="epoch", ylim=(0, 1))
    ax[1].legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
