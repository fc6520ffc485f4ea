"""``edgeemo run`` (the kiosk loop), ``edgeemo testclip`` (a video with known faces) and ``edgeemo predict``."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from dataclasses import asdict
from typing import Annotated

import typer

from edgeemo.cli.common import esc, TrustOpt, JsonOpt, RuntimeOpt, console, err_console, model_line, print_json
from edgeemo.kiosk.pipeline import DEFAULTS

PRIVACY = ("Privacy: only the per-interval aggregates are output; no face image, crop, embedding or identity is "
           "written, logged or sent. --preview writes an annotated video and must be asked for.")


def run(
    model: Annotated[str, typer.Option("--model", "-m", help="Zoo name, PyTorch/Keras file, or an .onnx/.xml/.tflite artifact.")],
    source: Annotated[str, typer.Option("--source", "-s", help="Video file, camera index (0) or stream URL (rtsp://...).")],
    interval: Annotated[str, typer.Option("--interval", help="Aggregate period: 10s, 1m, 500ms ...")] = DEFAULTS["interval"],
    out: Annotated[str | None, typer.Option("--out", "-o", help="Append the aggregates (JSON lines) to this file; default stdout.")] = None,
    preview: Annotated[str | None, typer.Option("--preview", help="Write an annotated video (boxes, labels) here, for debugging.")] = None,
    truth: Annotated[str | None, typer.Option("--truth", help="Score the run against a truth file from `edgeemo testclip`.")] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads for detection and classification.")] = 1,
    device: Annotated[str, typer.Option("--device", help="OpenVINO device (CPU, GPU, NPU, AUTO).")] = "CPU",
    runtime: RuntimeOpt = None,
    detector: Annotated[str, typer.Option("--detector", help="auto (blazeface where its model is installed, else haar-alt2), blazeface "
                                                            "(MediaPipe's BlazeFace with eye keypoints, in OpenVINO on --device), or "
                                                            "haar-alt2, haar-default, haar-alt (OpenCV cascades).")] = DEFAULTS["detector"],
    detect_width: Annotated[int | None, typer.Option("--detect-width", min=64, help="Detect on the frame scaled to this width (default: "
                                                                                 "Haar 320; BlazeFace 384, its input reshaped to the frame's aspect in OpenVINO).")] = DEFAULTS["detect_width"],
    min_face: Annotated[int | None, typer.Option("--min-face", min=1, help="Smallest face side in frame pixels (default: Haar 80, BlazeFace any).")] = DEFAULTS["min_face"],
    detector_model: Annotated[str | None, typer.Option("--detector-model", metavar="FILE", help="BlazeFace model to use instead of the packaged one, e.g. the INT8 IR of `edgeemo quantize blazeface` (run in OpenVINO).")] = None,
    align: Annotated[bool | None, typer.Option("--align/--no-align", help="Turn each face eyes-level before classifying (BlazeFace keypoints); default: as the model's card says it was trained (`edgeemo train --align`).", show_default=False)] = None,
    margin: Annotated[float | None, typer.Option("--margin", min=-0.3, max=1.0, help="Box fraction added per side before classifying "
                                                                                 "(negative shrinks; default: Haar -0.05, BlazeFace 0).")] = DEFAULTS["margin"],
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, max=1.0, help="Below this smoothed probability a face is 'uncertain' (the zoo's probabilities are calibrated on their validation splits; docs/kiosk.md).")] = DEFAULTS["threshold"],
    smooth: Annotated[float, typer.Option("--smooth", min=0.0, help="Half-life (s) of each face's label smoothing; 0 = none.")] = DEFAULTS["smooth_s"],
    max_frames: Annotated[int | None, typer.Option("--max-frames", min=1, help="Stop after N frames.")] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="Stop after this long (camera/stream), e.g. 8h.")] = None,
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Faces in each frame -> emotion per face (one batch) -> IoU tracks with smoothed labels -> one JSON line of
    counts per interval (faces, emotions, face-seconds, mean dwell). Prints pipeline FPS and per-stage latency.

    Privacy: only the aggregates are output; no face image, crop, embedding or identity is written, logged or sent.
    """
    from edgeemo.kiosk import parse_interval
    from edgeemo.live import run_kiosk

    _check_outputs(out=out, preview=preview)
    max_seconds = None
    if duration:
        try:
            max_seconds = parse_interval(duration)
        except ValueError as exc:
            from edgeemo.errors import EdgeemoError

            raise EdgeemoError(f"--duration: {exc}") from exc
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from edgeemo.live import frame_count

    to_stdout = out is None
    total = frame_count(source)
    if total and max_frames:
        total = min(total, max_frames)
    with Progress(TextColumn("kiosk loop"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                  disable=json_out or to_stdout or not err_console.is_terminal, transient=True) as bar:
        task = bar.add_task("frames", total=total)
        result = run_kiosk(model, source, interval, out, preview, truth, threads, device, detector, detect_width, min_face,
                           margin, threshold, smooth, max_frames, max_seconds,
                           on_record=(lambda r: typer.echo(json.dumps(r))) if to_stdout else None,
                           on_progress=lambda n: bar.update(task, completed=n) if n % 15 == 0 else None, runtime=runtime,
                           align=align, detector_model=detector_model,
                           on_note=lambda note: err_console.print(f"[yellow]note:[/yellow] {esc(note)}"))
    s = result.summary
    report = {"summary": {"model": result.model, "source": source, "frames": s.frames, "fps": s.fps,
                          "faces_classified": s.faces_classified, "records": s.records, "stages_ms": s.stages,
                          "aggregates": out or "stdout", "preview": preview, "settings": result.settings,
                          "resolved": result.resolved, "label_precision": result.label_precision}}
    if result.score is not None:
        report["summary"]["score"] = result.score
    if json_out:
        typer.echo(json.dumps(report))
        return
    from rich.table import Table

    target = err_console if to_stdout else console
    table = Table(title=f"{esc(s.frames)} frames at {s.fps:.1f} FPS (1 frame = decode + detect + classify + track)")
    table.add_column("stage")
    table.add_column("mean ms", justify="right")
    table.add_column("median ms", justify="right")
    table.add_column("p90 ms", justify="right")
    for stage, v in s.stages.items():
        table.add_row(esc(stage), f"{v['mean_ms']:.2f}", f"{v['median_ms']:.2f}", f"{v['p90_ms']:.2f}")
    target.print(table)
    if result.score is not None:
        sc = result.score
        target.print(f"detection recall {sc['detection_recall']:.3f} (precision {sc['detection_precision']:.3f})  "
                     f"label accuracy {sc['label_accuracy']:.3f} (uncertain {sc['uncertain_rate']:.3f})  "
                     f"stability {sc['stable_fraction']:.3f} ({sc['label_changes_per_visitor']:.2f} label changes per face, "
                     f"{sc['tracks_per_visitor']:.2f} tracks per face)")
        if sc.get("per_class"):
            target.print("label recall by class (uncertain): " + ", ".join(
                f"{esc(label)} {v['recall']:.2f} ({v['uncertain_rate']:.2f})" for label, v in sc["per_class"].items()))
    mostly_wrong = {label: p for label, p in (result.label_precision or {}).items() if p < 0.5}
    if mostly_wrong:
        target.print("[yellow]note:[/yellow] on the model's validation split most faces labelled " + ", ".join(
            f"{esc(label)} (precision {p:.2f})" for label, p in mostly_wrong.items()) + " showed another emotion: "
            "compare their share between intervals, not their counts with the truth (docs/kiosk.md)")
    target.print(model_line(result.resolved))
    target.print(f"{s.records} aggregate record(s) -> {out or 'stdout'}" + (f"; preview {preview}" if preview else ""))


def testclip(
    data: Annotated[str, typer.Option("--data", help="Labeled faces (legend.csv + images/, class folders, FER2013 CSV).")],
    out: Annotated[str, typer.Option("--out", "-o", help="Video to write: .mp4 (MPEG-4), .avi (Motion JPEG) or .mkv (lossless FFV1: the same frames on every machine); the truth goes to OUT.truth.json.")] = "clip.mp4",
    seconds: Annotated[float, typer.Option("--seconds", min=1.0, help="Length of the clip.")] = 30.0,
    fps: Annotated[float, typer.Option("--fps", min=1.0, help="Frames per second of the clip.")] = 15.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the faces picked, their paths and the background.")] = 0,
    hard: Annotated[bool, typer.Option("--hard", help="1-6 faces of 40-200 px, turned up to 15 degrees, slightly blurred, "
                                                      "under a lighting ramp over a busier background.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Make a 640x480 test video: held-out faces of the dataset (validation split), one or two at a time (--hard: up to
    six, harder), moving over a store-like background, with every box and label recorded, for `edgeemo run --truth`."""
    from edgeemo.evaluate.video import make_clip

    _check_outputs(preview=out, flag="--out")
    info = make_clip(data, out, seconds, fps, seed=seed, hard=hard)
    if json_out:
        print_json(asdict(info))
        return
    console.print(f"{esc(info.video)}: {esc(info.frames)} frames, {esc(info.visitors)} faces ({', '.join(f'{esc(k)} {esc(v)}' for k, v in sorted(info.labels.items()))})")
    console.print(f"truth {esc(info.truth)}")


def predict(
    images: Annotated[list[str], typer.Argument(metavar="IMAGES", help="Photos or folders of photos.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Zoo name, model file or artifact.")] = "emonet-resnet10",
    emotion: Annotated[str | None, typer.Option("--emotion", "-e", help="Rank by this emotion (default: the model's first label).")] = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Show only the N best photos.")] = None,
    csv_out: Annotated[str | None, typer.Option("--csv", help="Also write the ranking to this CSV file.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="Inference threads (default: the runtime's).")] = None,
    device: Annotated[str, typer.Option("--device", help="OpenVINO device (CPU, GPU, NPU, AUTO).")] = "CPU",
    runtime: RuntimeOpt = None,
    detector: Annotated[str, typer.Option("--detector", help="auto (blazeface where installed, else haar-alt2), blazeface, "
                                                            "haar-alt2, haar-default or haar-alt.")] = DEFAULTS["detector"],
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Find the faces in each photo, classify them, and rank the photos by the chosen emotion's probability
    (a photo scores its best face; a photo with no face found is classified whole)."""
    from rich.progress import Progress

    from edgeemo.fsutil import atomic_path, check_out_file
    from edgeemo.live import rank_photos

    if csv_out:
        check_out_file(csv_out, "--csv")

    with Progress(console=err_console, disable=json_out or not err_console.is_terminal, transient=True) as bar:
        task = bar.add_task("photos", total=None)
        ranked, unreadable, emotion, resolved = rank_photos(
            model, images, emotion, top, threads, device,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total), runtime=runtime,
            detector_name=detector, on_note=lambda note: err_console.print(f"[yellow]note:[/yellow] {esc(note)}"))
    rows = [{"rank": i + 1, "image": p.path, "faces": p.faces, emotion: round(p.score, 4), "label": p.label,
             "scores": p.scores} for i, p in enumerate(ranked)]
    if csv_out:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["rank", "image", "faces", emotion, "label"])
        for r in rows:
            w.writerow([r["rank"], r["image"], r["faces"], r[emotion], r["label"]])
        with atomic_path(csv_out) as tmp:
            tmp.write_text(buf.getvalue())
    if json_out:
        print_json({"emotion": emotion, "ranked": rows, "unreadable": unreadable, "resolved": resolved})
        return
    from rich.table import Table

    folder = _common_folder([r["image"] for r in rows])  # named once: a narrow terminal keeps each photo's own name
    table = Table(title=f"photos ranked by P({esc(emotion)})", caption=f"in {esc(folder)}" if folder else None)
    for col in ("rank", "image", "faces", f"P({emotion})", "top label"):
        table.add_column(col, justify="right" if col in ("rank", "faces", f"P({emotion})") else "left",
                         overflow="fold" if col == "image" else "ellipsis")
    for r in rows:
        table.add_row(str(r["rank"]), esc(os.path.relpath(r["image"], folder) if folder else r["image"]),
                      str(r["faces"]) if r["faces"] else "0 (whole photo)", f"{r[emotion]:.3f}", r["label"])
    console.print(table)
    console.print(model_line(resolved))
    for path in unreadable:
        err_console.print(f"[yellow]skipped {esc(path)}: not a readable image[/yellow]")


def _common_folder(paths: list[str]) -> str:
    """The folder all ``paths`` are in, or "" when they are in the current one or share none."""
    try:
        folder = os.path.commonpath([os.path.dirname(p) or "." for p in paths]) if paths else ""
    except ValueError:  # absolute and relative paths mixed
        return ""
    return "" if folder in ("", ".", os.sep) else folder


VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv")  # edgeemo.evaluate.video.VIDEO_CODECS, without importing cv2 for --help


def _check_outputs(out: str | None = None, preview: str | None = None, flag: str = "--preview") -> None:
    """Output paths are checked before a frame is read: a bad one fails now, not after the whole run."""
    from edgeemo.errors import EdgeemoError
    from edgeemo.fsutil import check_out_file

    if out:
        check_out_file(out)
    if preview:
        check_out_file(preview, flag)
        if Path(preview).suffix.lower() not in VIDEO_SUFFIXES:
            raise EdgeemoError(f"{flag} {preview}: a video file name ending in {' or '.join(VIDEO_SUFFIXES)}")
