"""edgeemo demo and report: one command to a self-contained HTML report that a real browser renders."""

import base64
import json
import re
import shutil
import subprocess

import pytest

from edgeemo.export.convert import convert
from edgeemo.sources import Overrides, load_source


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo with no dataset, on the compact model only (the full default pair is timed in benchmarks/)."""
    from conftest import run_cli

    out = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--model", "emolite", "--out", str(out), "--iterations", "20", "--json")
    assert result.code == 0, result.stderr
    return out, result.json()


def test_demo_without_data(demo_run):
    out, result = demo_run
    assert (out / "report.html").is_file() and result["report"] == str(out / "report.html")
    model = result["models"][0]
    assert model["name"] == "emolite" and model["macc"] <= 16_000_000
    assert model["best_macro_recall"] is None and not model["failed"]
    steps = [s["step"] for s in result["steps"]]
    assert any("convert" in s for s in steps) and any("INT8 (data-free" in s for s in steps) and steps[-1] == "report"
    folder = out / "emolite"
    for name in ("profile.json", "convert.json", "quantize.json", "bench_matrix.json", "model.onnx", "model.tflite",
                 "model_int8.tflite", "openvino/model.xml", "openvino-int8/model.xml"):
        assert (folder / name).is_file(), name
    html = (out / "report.html").read_text()
    assert "not measured: no data" in html
    assert "http://" not in html and "https://" not in html  # self-contained: no network
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 3 and all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)


def test_demo_table_fits_80_columns(demo_run):
    """The summary table keeps names and figures whole at 80 columns, for the default three models too (it folded
    'emonet-resnet10' into 'emonet-r' / 'esnet10')."""
    from dataclasses import replace

    from rich.console import Console

    from edgeemo.cli.demo import demo_table
    from edgeemo.demo import DEFAULT_MODELS, DemoResult, ModelSummary

    _, result = demo_run
    one = ModelSummary(**result["models"][0])
    for data, recall in ((None, None), ("faces", 0.795)):
        models = [replace(one, name=name, fastest="onnx fp32 via openvino", best_macro_recall=recall, int8_macro_recall=recall)
                  for name in DEFAULT_MODELS]
        console = Console(width=80, record=True, no_color=True)
        console.print(demo_table(DemoResult(result["out"], data, 1.0, result["report"], models, [])))
        text = console.export_text()
        assert max(map(len, text.splitlines())) <= 80
        assert all(name in text for name in DEFAULT_MODELS) and (recall is None or "0.795" in text)


def test_report_json_and_rebuild(demo_run, cli):
    out, _ = demo_run
    result = cli("report", str(out), "--json")
    assert result.code == 0, result.stderr
    combined = result.json()
    assert combined["models"][0]["name"] == "emolite" and combined["models"][0]["matrix"]
    assert json.loads((out / "report.json").read_text())["models"][0]["profile"]["macc"] == combined["models"][0]["profile"]["macc"]
    # the zoo model's card figures (no data in this run) place it on the accuracy-vs-latency figure
    assert any(p.endswith("accuracy_vs_latency.png") for p in combined["pngs"])
    assert 'alt="accuracy vs latency"' in (out / "report.html").read_text()


def test_report_with_accuracy(shared_data, tmp_path):
    """With data: accuracy per artifact, confusion matrices, and the Pareto front on the scatter."""
    from edgeemo.bench.matrix import run_matrix, save_matrix
    from edgeemo.report import build_report

    folder = tmp_path / "emolite"
    convert(load_source("emolite", Overrides()), folder, formats=("openvino",))
    save_matrix(run_matrix(folder, iterations=10, data=str(shared_data)), folder)
    results = build_report(tmp_path)
    row = results["models"][0]["matrix"][0]
    assert row["macro_recall"] > 0.2 and row["confusion"]
    assert any(p.endswith("confusion_emolite.png") for p in results["pngs"])
    assert set(row["labels"]) <= set(results["figure_text"]["confusion_emolite"])  # whole label names, not cut
    assert "emolite" in results["figure_text"]["accuracy_vs_macc"]


def _tables(page: str) -> list[list[list[str]]]:
    """Every <table> of the page as rows of cell texts."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tr":
                self.tables[-1].append([])
            elif tag in ("td", "th"):
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th"):
                self.tables[-1][-1].append(self.cell.strip())
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Tables()
    parser.feed(page)
    return parser.tables


def test_report_figures_agree_with_its_tables(demo_run, cli):
    """Fastest artifact, FPS and INT8 ratios are computed once: the card, the latency table and the INT8 table agree,
    and the figures show only what is drawn (legends, readable ticks, source layer names)."""
    out, _ = demo_run
    result = cli("report", str(out), "--json")
    assert result.code == 0, result.stderr
    combined = result.json()
    matrix = combined["models"][0]["matrix"]
    page = (out / "report.html").read_text()
    latency = next(t for t in _tables(page) if t[0][:1] == ["artifact"])
    header, rows = latency[0], latency[1:]
    median, fps_col = header.index("median ms"), header.index("FPS (1000/median)")
    timed = [r for r in matrix if r.get("median_ms")]
    fastest = min(timed, key=lambda r: r["median_ms"])
    assert len(rows) == len(matrix)
    for cells, row in zip(rows, matrix):
        if row.get("median_ms"):
            assert cells[median] == f"{row['median_ms']:.3f}" and cells[fps_col] == f"{1000 / row['median_ms']:.0f}"
    card_ms = re.search(r'class="fastest-ms">([^<]+)<', page).group(1)
    card_fps = re.search(r'class="fastest-fps">([^<]+)<', page).group(1)
    card_name = re.search(r'class="fastest-name">([^<]+)<', page).group(1)
    assert card_ms == f"{fastest['median_ms']:.3f}" == min((c[median] for c in rows if c[median] != "-"), key=float)
    assert card_fps == f"{1000 / fastest['median_ms']:.0f}"
    assert card_name == rows[matrix.index(fastest)][0]
    int8 = next(t for t in _tables(page) if "calibration" in t[0])
    ratio_col = next(i for i, h in enumerate(int8[0]) if h.startswith("latency INT8 / FP32"))
    checked = 0
    for cells in int8[1:]:
        found = re.fullmatch(r"([\d.]+) \(([\d.]+) / ([\d.]+) ms, (\w+)\)", cells[ratio_col])
        if not found:
            continue
        ratio, int8_ms, fp32_ms, runtime = found.groups()
        fmt = cells[1]
        by = {(r["format"], r["precision"], r["runtime"]): r for r in timed}
        assert f"{by[(fmt, 'int8', runtime)]['median_ms']:.3f}" == int8_ms
        assert f"{by[(fmt, 'fp32', runtime)]['median_ms']:.3f}" == fp32_ms
        assert ratio == f"{by[(fmt, 'int8', runtime)]['median_ms'] / by[(fmt, 'fp32', runtime)]['median_ms']:.2f}"
        checked += 1
    assert checked >= 1

    texts = combined["figure_text"]
    drawn = {r["precision"] for r in timed}
    assert "FP16 median" not in texts["latency"] or "fp16" in drawn
    assert {f"{p.upper()} median" for p in drawn} <= set(texts["latency"]) and "p99 (whisker)" in texts["latency"]
    assert not any("Pareto" in t for t in texts["accuracy_vs_macc"])  # no accuracy in this run: no front drawn
    assert any(t in ("5M", "10M", "20M", "50M") for t in texts["accuracy_vs_macc"])  # not 2x10^7
    layers = texts["layers_emolite"]
    assert not any("WithoutBiases" in t or t.startswith("/") for t in layers)


def test_report_on_a_folder_without_models_is_one_line(tmp_path, cli):
    from conftest import assert_one_line_error

    assert_one_line_error(cli("report", str(tmp_path)), "no model folders")


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(demo_run, tmp_path):
    out, _ = demo_run
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400", f"--screenshot={shot}",
                    (out / "report.html").as_uri()], capture_output=True, timeout=120)
    import cv2

    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (2400, 1200)
    assert image.std() > 20, "the page rendered blank"
    # the figures (not just text) arrived: plenty of non-white, non-gray colour
    colourful = (image.max(axis=2).astype(int) - image.min(axis=2)) > 60
    assert colourful.mean() > 0.005


def test_report_renders_user_text_as_text(demo_run, tmp_path, cli):
    """Names, devices and labels from a run folder are escaped in the page and are not mathtext in the figures."""
    import shutil

    out, _ = demo_run
    run = tmp_path / "run"
    shutil.copytree(out, run)
    evil = run / "<script>alert(1)<_script>$x^2$"
    (run / "emolite").rename(evil)
    matrix = json.loads((evil / "bench_matrix.json").read_text())
    for row in matrix:
        row["device"] = "<script>alert('device')</script>"
        row["runtime"] = "<img src=x onerror=alert(2)>"
    (evil / "bench_matrix.json").write_text(json.dumps(matrix))
    result = cli("report", str(run))
    assert result.code == 0, result.stderr
    page = (run / "report.html").read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;device&#39;)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;_script&gt;$x^2$" in page  # the model's name, as text


def test_report_folds_in_optimize(demo_run, cli):
    out, _ = demo_run
    opt = out / "optimize-cpu-x86"
    made = cli("optimize", "emolite", "--target", "cpu-x86", "--iterations", "20", "--out", str(opt), "--json")
    assert made.code == 0, made.stderr
    chosen = made.json()["chosen"]
    result = cli("report", str(out), "--json")
    assert result.code == 0, result.stderr
    assert result.json()["optimize"][0]["chosen"] == chosen
    html = (out / "report.html").read_text()
    assert "What to ship (edgeemo optimize)" in html and f"chosen {chosen}" in html and "agreement with the FP32" in html
    assert ">top-1 agreement</th>" in html  # no data: the optimize table names its proxy (its column said "accuracy")
