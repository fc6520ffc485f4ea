"""``edgeemo bench``: one honest latency protocol across runtimes and devices; ``--matrix`` for a whole folder."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from edgeemo.bench.run import BenchMode

from edgeemo.cli.common import (esc, hint, model_line, PrecisionHintOpt, TrustOpt, InputShapeOpt, JsonOpt, RemoteOpt, RemotePythonOpt, SshConfigOpt, console, err_console,
                                human, print_json, remote_host, status)


def bench(
    model: Annotated[str, typer.Argument(metavar="MODEL", help="Artifact (.xml/.onnx/.tflite), zoo name or source model (converted once to the runtime's format and "
                                                                              "cached; --runtime torch runs it eagerly), or a folder with --matrix.")],
    runtime: Annotated[str | None, typer.Option("--runtime", help="openvino, onnxruntime, litert or torch (default: the artifact's own; openvino for a zoo name or source model).")] = None,
    device: Annotated[str, typer.Option("--device", help="OpenVINO device: CPU, GPU, NPU, AUTO, HETERO:NPU,CPU, ...")] = "CPU",
    mode: Annotated[BenchMode, typer.Option("--mode", help="latency (1 request, sync) or throughput (async requests/streams).")] = BenchMode.latency,
    threads: Annotated[int | None, typer.Option("--threads", min=1, help="Inference threads (default: the runtime's).")] = None,
    streams: Annotated[int | None, typer.Option("--streams", min=1, help="OpenVINO CPU streams (latency mode: 1).")] = None,
    requests: Annotated[int | None, typer.Option("--requests", min=1, help="Async requests in throughput mode.")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Batch size (IR: needs a static IR of that batch).")] = 1,
    iterations: Annotated[int | None, typer.Option("--iterations", help="Timed iterations (default 200).")] = None,
    time_s: Annotated[float | None, typer.Option("--time", help="Stop after S seconds instead.")] = None,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed warm-up iterations.")] = 10,
    data: Annotated[str | None, typer.Option("--data", help="Real preprocessed faces as inputs (and accuracy with --matrix); "
                                                            "without it, random 0-255 pixels normalised by the model card.")] = None,
    end_to_end: Annotated[bool, typer.Option("--end-to-end", help="Also time decode + preprocess + infer of a real image.")] = False,
    target: Annotated[str | None, typer.Option("--target", help="Apply a profile from targets/ (see `edgeemo targets`).")] = None,
    matrix: Annotated[bool, typer.Option("--matrix", help="MODEL is a convert/quantize folder: bench every artifact x runtime.")] = False,
    input_shape: InputShapeOpt = None,
    precision_hint: PrecisionHintOpt = None,
    remote: RemoteOpt = None,
    ssh_config: SshConfigOpt = None,
    remote_python: RemotePythonOpt = "python3",
    trust_checkpoint: TrustOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Median/mean/std/min/max/p90/p99 latency, FPS, compile and first-inference time, with the environment.

    With --remote and --target: bundle MODEL for the target, copy it to the device with scp, verify and
    self-test it there, run the bundle's bench (the same protocol) and bring the JSON back."""
    from edgeemo.bench import benchmark
    from edgeemo.bench.run import check_duration
    from edgeemo.sources import parse_shape

    check_duration(iterations, time_s)  # before --remote copies anything
    from edgeemo.live import detector_file

    model = detector_file(model)  # `blazeface`: the kiosk's face detector
    if remote:
        _remote(model, target, remote, ssh_config, remote_python, data, threads, iterations or 200, json_out)
        return
    host_note = None
    if target:
        from edgeemo.targets import bench_settings

        settings = bench_settings(target, runtime, device, threads)
        runtime, device, threads, host_note = settings.runtime, settings.device, settings.threads, settings.host_note
        if host_note:
            err_console.print(f"[yellow]note:[/yellow] {esc(host_note)}")
    if matrix:
        _matrix(model, threads or 1, iterations or 200, data, device, json_out, hint(precision_hint))
        return
    with status("benchmarking...", not json_out) as update:
        result = benchmark(model, runtime, device, mode, threads, streams, batch, iterations, time_s, warmup, data,
                           end_to_end, parse_shape(input_shape), host_note, requests, hint(precision_hint), on_step=update)
    if json_out:
        print_json(result.to_dict())
        return
    s = result.latency_ms
    console.print(_latency_table(f"{model}: {result.runtime} on {result.device} ({result.device_name}), {result.mode} mode",
                                 {c: getattr(s, c) for c in STATS}))
    console.print(f"throughput {result.throughput_fps:.1f} FPS  compile {result.compile_ms:.1f} ms  first inference "
                  f"{result.first_inference_ms:.2f} ms  iterations {esc(result.iterations)}  threads {esc(result.threads)}  "
                  f"streams {esc(result.streams)}  batch {esc(result.batch)}  precision {esc(result.precision)}  input {esc(result.input)}")
    console.print(model_line(result.resolved))
    console.print(f"latency source: {esc(result.latency_source)}; the call as Python sees it: median {result.wall_ms.median:.3f} ms, "
                  f"p99 {result.wall_ms.p99:.3f} ms")
    if result.end_to_end_ms:
        console.print(f"end to end (decode + preprocess + infer): median {result.end_to_end_ms.median:.3f} ms, "
                      f"p99 {result.end_to_end_ms.p99:.3f} ms; of it decode + preprocess: median "
                      f"{result.preprocess_ms.median:.3f} ms")
    env = result.environment
    console.print(f"host: {esc(env['cpu'])} ({esc(env.get('isa', '?'))}), {esc(env['cores'])} cores; " + ", ".join(f"{esc(k)} {esc(v)}" for k, v in env["versions"].items()))
    if host_note:
        console.print(f"[yellow]{esc(host_note)}[/yellow]")


STATS = ("median", "mean", "std", "min", "max", "p90", "p99")


def _latency_table(title: str, stats: dict[str, float]) -> Table:
    table = Table(title=title)
    for col in STATS:
        table.add_column(f"{col} ms", justify="right")
    table.add_row(*(f"{stats[c]:.3f}" for c in STATS))
    return table


def _matrix(folder: str, threads: int, iterations: int, data: str | None, device: str, json_out: bool,
            precision: str | None = None) -> None:
    from dataclasses import asdict

    from edgeemo.bench.matrix import run_matrix, save_matrix

    with status("bench matrix...", not json_out) as update:
        rows = run_matrix(folder, threads, iterations, data, device, precision=precision, on_step=lambda s: update(f"bench: {s}"))
    json_path, csv_path = save_matrix(rows, folder)
    if json_out:
        print_json([asdict(r) for r in rows])
        return
    console.print(_matrix_table(rows, f"{folder}: {threads} thread(s), latency mode"))
    console.print(f"saved {esc(json_path)} and {esc(csv_path)}")


def _matrix_table(rows, title: str) -> Table:
    """One row per artifact x runtime; what every row shares (the model's MACC and params, the device) goes in the
    title and a column without figures (macro recall without --data) is left out, so the table fits 80 columns."""
    one_model = len({(r.macc, r.params) for r in rows}) == 1 and bool(rows[0].macc)
    devices = {r.device for r in rows}
    if one_model:
        title += f"; {human(rows[0].macc)} MACC, {human(rows[0].params)} params"
    if len(devices) == 1:
        title += f"; device {next(iter(devices))}"
    accuracy = any(r.macro_recall is not None for r in rows)
    cols = ["artifact", "runtime", *([] if len(devices) == 1 else ["device"]), *([] if one_model else ["MACC", "params"]),
            "size", "ms", "p99", "computes", *(["macro-R"] if accuracy else [])]
    table = Table(title=esc(title), caption="ms: median latency; p99: its 99th percentile (FPS in the JSON and CSV)")
    for col in cols:
        text = col in ("artifact", "runtime", "device", "computes")
        table.add_column(col, justify="left" if text else "right", overflow="fold", no_wrap=col != "computes",
                         min_width=8 if col == "computes" else None)
    for r in rows:
        cells = {"artifact": f"{r.format} {r.precision}", "runtime": r.runtime, "device": r.device,
                 "MACC": human(r.macc) if r.macc else "-", "params": human(r.params) if r.params else "-",
                 "size": human(r.bytes, "B"), "ms": f"{r.median_ms:.3f}" if r.median_ms else "[red]error[/red]",
                 "p99": f"{r.p99_ms:.3f}" if r.p99_ms else "-",
                 "computes": r.compute_precision or (r.error or "-")[:40],
                 "macro-R": f"{r.macro_recall:.3f}" if r.macro_recall is not None else "-"}
        table.add_row(*(cells[c] if c == "ms" else esc(cells[c]) for c in cols))
    return table


def _remote(model: str, target: str | None, remote: str, ssh_config: str | None, python: str, data: str | None,
            threads: int | None, iterations: int, json_out: bool) -> None:
    from edgeemo.deploy.remote import bench_on_device
    from edgeemo.errors import EdgeemoError

    if not target:
        raise EdgeemoError("--remote needs --target (the device's profile, e.g. rpi5): it decides the artifact to send")
    from edgeemo.targets import load_target

    threads = threads or load_target(target).threads  # the profile's threads, as `--target` does locally
    with status(f"bundling for {target}, then benchmarking on {remote}...", not json_out):
        report = bench_on_device(model, target, remote_host(remote, ssh_config, python), data=data, threads=threads,
                                 iterations=iterations)
    if json_out:
        print_json(report)
        return
    b = report["bench"]
    console.print(_latency_table(f"{model} on {remote} ({b['machine']}, {b['runtime']}), {target} bundle, latency mode",
                                 b["latency_ms"]))
    console.print(f"throughput {b['throughput_fps']:.1f} FPS  first inference {b['first_inference_ms']:.2f} ms  "
                  f"iterations {esc(b['iterations'])}  threads {esc(b['threads'])}")
    console.print(f"on the device: checksums {esc(report['verify']['verify'])}, selftest {esc(report['selftest']['selftest'])} "
                  f"(max |diff| {report['selftest']['max_abs_diff']:.2g}); bundle in {esc(report['folder'])}")
    if b.get("emulated"):
        console.print("[yellow]this device runs under emulation: these timings are not the real device's latency[/yellow]")
