"""The report page: one HTML file, images embedded as data URIs, no network."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from edgeemo.reference import REFERENCE_MACC, REFERENCE_NAME, REFERENCE_PARAMS

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;background:#fff}
h1{margin-bottom:0}h2{border-bottom:2px solid #e3e7ef;padding-bottom:4px;margin-top:32px}
.sub{color:#5b6474;margin-top:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #d9dee8;padding:4px 8px;text-align:right}
th{background:#f3f5f9}td.l,th.l{text-align:left}
.ok{color:#0a7a32;font-weight:600}.bad{color:#b00020;font-weight:600}.note{color:#5b6474;font-size:13px}
img{max-width:100%;border:1px solid #e3e7ef;margin:6px 0}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #d9dee8;border-radius:8px;padding:10px 14px;min-width:220px}
.big{font-size:22px;font-weight:700}
"""


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _fmt(v, f="{:.3f}") -> str:
    return f.format(v) if isinstance(v, (int, float)) else "-"


def _table(headers: list[str], rows: list[list], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render(results: dict, pngs: dict[str, Path]) -> str:
    env = results["environment"]
    summary = results.get("summary") or {}
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>edgeemo report</title><style>{CSS}</style></head><body>",
             "<h1>edgeemo deployment report</h1>",
             f"<p class='sub'>{html.escape(results['run'])} &middot; {html.escape(env.get('cpu', ''))}, {env.get('cores')} cores"
             f" &middot; reference budget: {REFERENCE_NAME} {REFERENCE_MACC / 1e6:.2f}M MACC, {REFERENCE_PARAMS / 1e6:.2f}M params</p>"]
    cards = []
    for m in results["models"]:
        prof = m["profile"] or {}
        card = m["card"] or {}
        rows = [r for r in (m["matrix"] or []) if r.get("median_ms")]
        fastest = min(rows, key=lambda r: r["median_ms"]) if rows else None
        recall = max((r["macro_recall"] for r in rows if r.get("macro_recall") is not None), default=None)
        macc = prof.get("macc") or card.get("macc")
        verdict = "<span class='ok'>within budget</span>" if macc and macc <= REFERENCE_MACC else "<span class='bad'>over budget</span>"
        fastest_name = f"{fastest['format']} {fastest['precision']} / {fastest['runtime']}" if fastest else "-"
        cards.append(
            f"<div class='card'><div><b>{html.escape(m['name'])}</b></div>"
            f"<div class='big'>{_fmt(macc / 1e6 if macc else None, '{:.2f}')}M MACC</div>"
            f"<div>{_fmt(macc / REFERENCE_MACC if macc else None, '{:.0%}')} of budget: {verdict}</div>"
            f"<div>fastest: {_fmt(fastest['median_ms'] if fastest else None)} ms "
            f"({html.escape(fastest_name)})</div>"
            f"<div>macro recall: {_fmt(recall) if recall is not None else 'not measured: no data'}</div></div>")
    parts.append("<div class='cards'>" + "".join(cards) + "</div>")
    if summary.get("seconds"):
        parts.append(f"<p class='note'>demo total time {summary['seconds']:.1f} s; data: {html.escape(str(summary.get('data') or 'none'))}</p>")

    parts.append("<h2>Accuracy vs compute</h2>")
    if "accuracy_vs_macc" in pngs:
        parts.append(_img(pngs["accuracy_vs_macc"], "accuracy vs MACC"))
    parts.append("<h2>Latency</h2>")
    if "latency" in pngs:
        parts.append(_img(pngs["latency"], "latency per artifact"))
    for m in results["models"]:
        rows = m["matrix"] or []
        if not rows:
            continue
        parts.append(f"<h3>{html.escape(m['name'])}</h3>")
        parts.append(_table(
            ["format", "precision", "runtime", "device", "size", "median ms", "p99 ms", "FPS", "computes", "accuracy", "macro recall"],
            [[html.escape(r["format"]), r["precision"], r["runtime"], r["device"], f"{r['bytes'] / 1e6:.2f} MB",
              _fmt(r.get("median_ms")), _fmt(r.get("p99_ms")), _fmt(r.get("fps"), "{:.0f}"),
              html.escape(str(r.get("compute_precision") or r.get("error") or "-")),
              _fmt(r.get("accuracy")), _fmt(r.get("macro_recall"))] for r in rows], left=4))

    parts.append("<h2>Confusion matrices</h2>")
    confusion = [k for k in pngs if k.startswith("confusion_")]
    parts += [_img(pngs[k], k) for k in confusion] or ["<p class='note'>not measured: no data (run the demo with --data)</p>"]

    parts.append("<h2>Where the MACC go</h2>")
    parts += [_img(pngs[k], k) for k in pngs if k.startswith("layers_")]

    parts.append("<h2>Conversion parity</h2>")
    rows = []
    for m in results["models"]:
        conv = m["convert"] or {}
        for a in conv.get("artifacts", []):
            status = "<span class='ok'>verified</span>" if a.get("passed") else f"<span class='bad'>{html.escape(a.get('error') or 'failed')}</span>"
            rows.append([html.escape(m["name"]), a["format"], a["precision"], _fmt(a.get("max_abs_diff"), "{:.2e}"),
                         _fmt(a.get("top1_agreement"), "{:.1%}"), _fmt(a.get("tolerance"), "{:.0e}"), status])
    parts.append(_table(["model", "format", "precision", "max abs diff", "top-1 agreement", "tolerance", "status"], rows, left=3))
    quant_rows = []
    for m in results["models"]:
        q = m["quantize"] or {}
        for a in q.get("artifacts", []):
            quant_rows.append([html.escape(m["name"]), a["format"], html.escape(q.get("calibration", "")), _fmt(a.get("size_ratio"), "{:.2f}"),
                               _fmt((a.get("fp32") or {}).get("macro_recall")), _fmt((a.get("int8") or {}).get("macro_recall")),
                               _fmt(a.get("latency_ratio"), "{:.2f}")])
    if quant_rows:
        parts.append("<h3>INT8</h3>")
        parts.append(_table(["model", "format", "calibration", "size ratio", "FP32 macro recall", "INT8 macro recall",
                             "latency ratio"], quant_rows, left=3))

    parts.append("<h2>Environment</h2>")
    versions = env.get("versions", {})
    parts.append(_table(["item", "value"], [["CPU", html.escape(str(env.get("cpu")))], ["cores", env.get("cores")],
                                            ["OS", html.escape(str(env.get("os")))], ["Python", env.get("python")]]
                        + [[k, v] for k, v in versions.items()], left=2))
    parts.append("<p class='note'>Latency: edgeemo bench, latency mode (1 request, sync, batch 1), 1 thread, warm-up excluded; "
                 "OpenVINO figures are the runtime's own per-request latency, the same measure benchmark_app reports. "
                 "Figures are from this machine, not from a target device.</p></body></html>")
    return "".join(parts)
