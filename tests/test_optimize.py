"""edgeemo optimize: the choice is the fastest measured candidate within the drop, every faster one broke it;
a re-run measures nothing twice; a user checkpoint with --arch goes through end to end."""

from __future__ import annotations

import json

import pytest

from test_convert import _tiny, arch_file  # noqa: F401  (the fixture)


def _check_choice(report: dict) -> dict:
    timed = [c for c in report["candidates"] if c["median_ms"] is not None and not c["error"]]
    chosen = next(c for c in timed if c["name"] == report["chosen"])
    within = [c for c in timed if c["drop"] <= report["max_drop"] + 1e-9]
    assert chosen["median_ms"] == min(c["median_ms"] for c in within)  # the fastest within the drop
    for c in timed:
        if c["median_ms"] < chosen["median_ms"]:  # every faster one broke the drop, and says so
            assert c["drop"] > report["max_drop"] and c["verdict"].startswith("rejected: macro recall drop"), c
    return chosen


@pytest.mark.parametrize("model", ["emonet-resnet10", "mini-xception"])
def test_optimize_picks_the_fastest_within_the_drop(model, shared_data, tmp_path, cli):
    out = tmp_path / "opt"
    args = ("optimize", model, "--target", "cpu-x86", "--data", str(shared_data), "--limit", "400", "--iterations", "40",
            "--out", str(out), "--json")
    result = cli(*args)
    assert result.code == 0, result.stderr
    report = result.json()
    assert {c["precision"] for c in report["candidates"]} == {"fp32", "int8"}  # cpu-x86 allows int8 and fp32
    assert all(c["runtime"] == "openvino" and c["macro_recall"] is not None for c in report["candidates"])
    chosen = _check_choice(report)
    print(f"{model}: chosen {chosen['name']} ({chosen['median_ms']:.3f} ms)",
          [(c["name"], round(c["median_ms"], 3), round(c["drop"], 2)) for c in report["candidates"]])
    for name in ("optimize.json", "optimize.csv", "optimize.png", "chosen/model.xml", "chosen/model.json", "cpu-x86.tar.gz"):
        assert (out / name).is_file(), name
    again = cli(*args)  # the same folder: everything from the cache
    assert again.code == 0, again.stderr
    second = again.json()
    assert all(c["cached"] for c in second["candidates"]) and second["chosen"] == report["chosen"]
    table = cli(*args[:-1]).stdout  # the printed table names its figure (it said "accuracy" above macro recalls)
    header = next(line for line in table.splitlines() if "candidate" in line)
    assert "macro recall" in header and "accuracy" not in header


def test_user_checkpoint_with_arch_goes_through_optimize(arch_file, tmp_path, cli):  # noqa: F811
    import torch

    model = _tiny(arch_file)
    ckpt = tmp_path / "tiny.pth"
    torch.save({"state_dict": model.state_dict()}, ckpt)
    out = tmp_path / "opt"
    result = cli("optimize", str(ckpt), "--target", "cpu-x86", "--arch", f"{arch_file}:TinyNet", "--arch-kwargs",
                 "classes=5,width=8", "--input-shape", "1,1,32,32", "--channel-order", "gray",
                 "--labels", "neutral,happy,sad,surprise,anger", "--iterations", "20", "--out", str(out), "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert "agreement" in report["measure"] and report["chosen"]  # no data: agreement with FP32 is the proxy
    assert all(c["agreement"] is not None for c in report["candidates"])
    _ = json.loads((out / "optimize.json").read_text())
    assert (out / "cpu-x86.tar.gz").is_file()


def test_optimize_bad_inputs(cli, tmp_path):
    from conftest import assert_one_line_error

    assert_one_line_error(cli("optimize", "emolite", "--target", "nowhere", "--out", str(tmp_path / "o")), "unknown target")
    assert_one_line_error(cli("optimize", "no-such-model", "--target", "cpu-x86", "--out", str(tmp_path / "o")), "no-such-model")
