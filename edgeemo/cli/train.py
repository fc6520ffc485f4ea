"""``edgeemo train``: train or fine-tune a zoo architecture on labeled faces."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated

import typer

from edgeemo.cli.common import esc, TrustOpt, JsonOpt, console, err_console, print_json


def train(
    arch: Annotated[str, typer.Argument(metavar="ARCH", help="Zoo architecture (see `edgeemo models`).")],
    data: Annotated[str, typer.Option("--data", help="Dataset: legend.csv + images/, class folders, or a FER2013 CSV.")],
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder: weights.pt, model.json, curve.png, last.pt.")] = "runs/train",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Most epochs to train (early stopping may end sooner).")] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Images per training step.")] = 64,
    lr: Annotated[float | None, typer.Option("--lr", min=0.0, help="Peak learning rate (default 2e-3; 1e-4 with --qat).")] = None,
    balance: Annotated[float, typer.Option("--balance", min=0.0, max=1.0, help="Class balancing of the sampler: 0 natural .. 1 uniform.")] = 0.5,
    label_smoothing: Annotated[float, typer.Option("--label-smoothing", min=0.0, max=0.5, help="Share of each target spread over the other classes.")] = 0.1,
    patience: Annotated[int, typer.Option("--patience", min=1, help="Stop after N epochs without a better val macro recall.")] = 8,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the initial weights, the sampler, the augmentation and (see --split-seed) the split.")] = 0,
    split_seed: Annotated[int | None, typer.Option("--split-seed", show_default=False,
                                                   help="Seed of the split alone, to repeat a run with other --seed values on the same split. [default: --seed; with --init zoo on the data the zoo model was trained on: its card's split seed]")] = None,
    val_fraction: Annotated[float | None, typer.Option("--val-fraction", min=0.01, max=0.5, show_default=False,
                                                       help="Share of each class for validation (early stopping). [default: 0.2; with --init zoo on the data the zoo model was trained on: its card's split]")] = None,
    test_fraction: Annotated[float | None, typer.Option("--test-fraction", min=0.0, max=0.5, show_default=False,
                                                        help="Share of each class held out as a test split: never trained on, never used to choose. [default: 0; with --init zoo: as --val-fraction]")] = None,
    logit_adjust: Annotated[float, typer.Option("--logit-adjust", min=0.0, max=2.0,
                                                help="Balanced-softmax strength: larger margins for rare classes (0 = off, 1 = full).")] = 0.0,
    photometric: Annotated[bool, typer.Option("--photometric", help="Augment with CLAHE/equalisation, gamma, blur and noise (other cameras and light).")] = False,
    mixup: Annotated[float, typer.Option("--mixup", min=0.0, max=2.0, metavar="ALPHA",
                                         help="Blend each batch with a shuffled copy of itself, Beta(ALPHA, ALPHA) weights, labels blended alike (0 = off; 0.2-0.4 usual).")] = 0.0,
    ema: Annotated[float, typer.Option("--ema", min=0.0, max=0.9999, metavar="DECAY",
                                       help="Validate and keep an exponential moving average of the weights (e.g. 0.998; 0 = off).")] = 0.0,
    align: Annotated[bool, typer.Option("--align", help="Turn every face eyes-level first (BlazeFace keypoints), as `edgeemo run --align` does; the card records it and eval and run then align by default.")] = False,
    fold_label: Annotated[list[str] | None, typer.Option("--fold-label", metavar="SRC=DST",
                                                         help="Train on images of a label the model lacks as another class (e.g. disgust=anger); repeatable. Validation and test splits are unchanged.")] = None,
    init: Annotated[str | None, typer.Option("--init", help="'zoo' to fine-tune the zoo weights, or a state-dict path.")] = None,
    teacher: Annotated[list[str] | None, typer.Option("--teacher", help="Distil from this model's soft labels (zoo name, artifact or train's weights.pt); repeat for an ensemble (their probabilities averaged).")] = None,
    distill_weight: Annotated[float, typer.Option("--distill-weight", min=0.0, max=1.0,
                                                  help="Share of the teacher's soft targets in the loss (the rest: hard labels).")] = 0.5,
    distill_temperature: Annotated[float, typer.Option("--distill-temperature", min=1.0, max=10.0, metavar="T",
                                                       help="Soften the teachers' and the student's distributions by T (2-4 usual) so the teachers' second choices carry weight; the term is scaled by T squared.")] = 1.0,
    erase: Annotated[float, typer.Option("--erase", min=0.0, max=1.0, metavar="P",
                                         help="Random erasing: with probability P hide one rectangle of 2-20% of the face under noise (occlusion; 0 = off).")] = 0.0,
    low_res: Annotated[float, typer.Option("--low-res", min=0.0, max=1.0, metavar="P",
                                           help="With probability P train on the face shrunk to 3/8-3/4 of its side and upscaled back (small, distant faces; 48x48 datasets; 0 = off).")] = 0.0,
    classifier_only: Annotated[bool, typer.Option("--classifier-only", help="Re-train only the last linear layer of --init's model, features and BatchNorm frozen (decoupled training's second stage: features learned on natural sampling, classifier re-balanced with --balance 1).")] = False,
    calibrate: Annotated[bool, typer.Option("--calibrate/--no-calibrate", help="Temperature scaling: fit one temperature on the validation split (100 faces or more) and fold it into the last layer, so the probabilities are calibrated (the kiosk's --threshold reads them); no prediction changes.")] = True,
    qat: Annotated[bool, typer.Option("--qat", help="NNCF quantization-aware fine-tuning of trained weights (--init): exports an INT8 IR.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use at most N training images (quick runs).")] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="PyTorch CPU threads (default: all cores).")] = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Train with a stratified split, class-balanced sampling, face augmentation, label smoothing, one-cycle
    cosine schedule and early stopping on validation macro recall. Re-running with the same --out resumes
    (with the same options: only --epochs, --patience and --threads may change).
    --qat fine-tunes trained weights with NNCF fake-quantizers and writes OUT/openvino-int8/model.xml."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from edgeemo.models import get_spec
    from edgeemo.train import TrainConfig, train as run_train

    from edgeemo.data import load_dataset
    from edgeemo.data.datasets import DatasetError, normalize_label

    from edgeemo.fsutil import check_out_dir

    check_out_dir(out)
    labels = get_spec(arch).labels  # one-line error for an unknown architecture
    found = load_dataset(data).counts()  # one-line errors for unusable data, before any progress bar
    if not set(found) & set(labels):
        raise DatasetError(f"{data}: none of its labels {sorted(found)} is one {arch} outputs ({', '.join(labels)})")
    folds = {}
    for item in fold_label or []:
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise typer.BadParameter(f"{item!r}: expected SRC=DST, e.g. disgust=anger", param_hint="--fold-label")
        folds[normalize_label(source)] = normalize_label(target)
    cfg = TrainConfig(arch=arch, data=data, out=out, epochs=epochs, batch_size=batch_size, lr=lr or (1e-4 if qat else 2e-3), balance=balance,
                      label_smoothing=label_smoothing, patience=patience, seed=seed, split_seed=split_seed,
                      val_fraction=val_fraction, test_fraction=test_fraction, logit_adjust=logit_adjust, photometric=photometric, mixup=mixup, ema=ema, align=align, fold_labels=folds, init=init, teacher=(teacher[0] if len(teacher) == 1 else teacher) if teacher else None, distill_weight=distill_weight,
                      distill_temperature=distill_temperature, erase=erase, low_res=low_res, classifier_only=classifier_only, qat=qat, calibrate=calibrate,
                      limit=limit, threads=threads, command="edgeemo " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, disable=json_out or not err_console.is_terminal, transient=True) as bar:
        task = bar.add_task("epoch 1", total=None)

        def on_epoch(log):
            bar.console.print(f"epoch {log.epoch:3d}  loss {log.loss:.3f}  train acc {log.train_accuracy:.3f}  "
                              f"val acc {log.val_accuracy:.3f}  val macro recall {log.val_macro_recall:.3f}  ({log.seconds:.0f}s)")
            bar.update(task, description=f"epoch {log.epoch + 1}", completed=0)

        result = run_train(cfg, on_epoch=on_epoch, on_batch=lambda done, total: bar.update(task, completed=done, total=total))
    if json_out:
        print_json({"weights": result.weights, "card": result.card, "best_epoch": result.best_epoch, "validation": result.validation,
                    "calibration": result.calibration})
        return
    v = result.validation
    console.print(f"best epoch {esc(result.best_epoch)}: val accuracy {v['accuracy']:.3f}, macro recall [bold]{v['macro_recall']:.3f}[/bold], "
                  f"macro F1 {v['macro_f1']:.3f}")
    c = result.calibration
    if c and "skipped" in c:
        console.print(f"not calibrated: {esc(c['skipped'])}")
    elif c:
        console.print(f"calibrated on {esc(c['fitted_on'])}: logits / {c['temperature']:.2f}; faces under probability 0.5 "
                      f"{c['top_below_half'][0]:.0%} -> {c['top_below_half'][1]:.0%}, calibration error {c['ece'][0]:.3f} -> {c['ece'][1]:.3f}")
    console.print(f"weights {esc(result.weights)}  card {esc(result.card)}")
    if qat:
        import json
        from pathlib import Path

        q = json.loads(Path(result.card).read_text())["qat"]
        console.print(f"INT8 IR {esc(Path(out) / q['int8_ir'])} ({esc(q['fake_quantize_ops'])} FakeQuantize): val macro recall "
                      f"{q['int8_ir_validation']['macro_recall']:.3f}, accuracy {q['int8_ir_validation']['accuracy']:.3f}")
