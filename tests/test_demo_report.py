"""edgeemo demo and report: one command to a self-contained HTML report that a real browser renders."""

import base64
import json
import re
import shutil
import subprocess

import pytest

from edgeemo.export.convert import convert
from edgeemo.export.sources import Overrides, load_source


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
