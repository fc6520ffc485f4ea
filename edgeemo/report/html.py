"""The report page: one HTML file, images embedded as data URIs, no network."""

from __future__ import annotations

import base64
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


TEMPLATE = """<!doctype html><html><head><meta charset="utf-8"><title>edgeemo report</title><style>{{ css }}</style></head><body>
<h1>edgeemo deployment report</h1>
<p class="sub">{{ run }} &middot; {{ cpu }}, {{ cores }} cores &middot; reference budget: {{ ref_name }} {{ ref_macc }}M MACC, {{ ref_params }}M params</p>
<div class="cards">{% for c in cards %}<div class="card"><div><b>{{ c.name }}</b></div>
<div class="big">{{ c.macc }}M MACC</div>
<div>{{ c.share }} of budget: {% if c.within %}<span class="ok">within budget</span>{% else %}<span class="bad">over budget</span>{% endif %}</div>
<div>fastest: <span class="fastest-ms">{{ c.fastest_ms }}</span> ms, <span class="fastest-fps">{{ c.fastest_fps }}</span> FPS (<span class="fastest-name">{{ c.fastest_name }}</span>)</div>
{% if c.noise %}<div class="note">{{ c.noise }}</div>{% endif %}
<div>macro recall: {{ c.recall }}</div></div>{% endfor %}</div>
{% if total_s %}<p class="note">demo total time {{ total_s }} s; data: {{ data }}</p>{% endif %}
<h2>Accuracy vs compute</h2>{% if images.accuracy_vs_macc %}<img alt="accuracy vs MACC" src="{{ images.accuracy_vs_macc }}">{% endif %}
{% if images.accuracy_vs_latency %}<img alt="accuracy vs latency" src="{{ images.accuracy_vs_latency }}">{% endif %}
<h2>Latency</h2>{% if images.latency %}<img alt="latency per artifact" src="{{ images.latency }}">{% endif %}
{% for m in latency_tables %}<h3>{{ m.name }}</h3>{{ table(m.headers, m.rows, 2) }}{% endfor %}
{% if optimize %}<h2>What to ship (edgeemo optimize)</h2>{% for o in optimize %}<h3>{{ o.title }}</h3>{{ table(o.headers, o.rows, 1) }}
<p class="note">{{ o.note }}</p>{% endfor %}{% endif %}
<h2>Confusion matrices</h2>
{% for name, src in confusion %}<img alt="{{ name }}" src="{{ src }}">{% else %}<p class="note">not measured: no data (run the demo with --data)</p>{% endfor %}
<h2>Where the MACC go</h2>{% for name, src in layers %}<img alt="{{ name }}" src="{{ src }}">{% endfor %}
<h2>Conversion parity</h2>
<table><tr>{% for h in parity_headers %}<th class="{{ 'l' if loop.index0 < 3 }}">{{ h }}</th>{% endfor %}</tr>
{% for r in parity_rows %}<tr>{% for c in r.cells %}<td class="{{ 'l' if loop.index0 < 3 }}">{{ c }}</td>{% endfor %}<td class="l">{% if r.passed %}<span class="ok">verified</span>{% else %}<span class="bad">{{ r.error }}</span>{% endif %}</td></tr>{% endfor %}</table>
{% if quant_rows %}<h3>INT8</h3>{{ table(quant_headers, quant_rows, 3) }}{% endif %}
<h2>Environment</h2>{{ table(["item", "value"], environment, 2) }}
<p class="note">Latency: edgeemo bench, latency mode (1 request, sync, batch 1), 1 thread, warm-up excluded; OpenVINO figures are the runtime's own per-request latency, the same measure benchmark_app reports. Figures are from this machine, not from a target device.</p>
</body></html>"""

TABLE = """{% macro table(headers, rows, left) %}<table><tr>{% for h in headers %}<th class="{{ 'l' if loop.index0 < left }}">{{ h }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in r %}<td class="{{ 'l' if loop.index0 < left }}">{{ c }}</td>{% endfor %}</tr>{% endfor %}</table>{% endmacro %}"""


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _fmt(v, f="{:.3f}") -> str:
    return f.format(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else "-"


def _text(v) -> str:
    return "-" if v is None else str(v)


def render(results: dict, pngs: dict[str, Path]) -> str:
    """The page, from a Jinja2 template with autoescape: every name, label and device string is text, never markup."""
    from jinja2 import Environment

    env = results["environment"]
    summary = results.get("summary") or {}
    from edgeemo.report.figures import fps, model_figures, row_label

    figures = {m.get("name"): model_figures(m.get("name"), m.get("matrix")) for m in results["models"]}
    cards = []
    for m in results["models"]:
        prof = m.get("profile") or {}
        card = m.get("card") or {}
        f = figures[m.get("name")]
        macc = prof.get("macc") or card.get("macc")
        cards.append({
            "name": _text(m.get("name")), "macc": _fmt(macc / 1e6 if macc else None, "{:.2f}"),
            "share": _fmt(macc / REFERENCE_MACC if macc else None, "{:.0%}"), "within": bool(macc and macc <= REFERENCE_MACC),
            "fastest_ms": _fmt(f.fastest["median_ms"] if f.fastest else None), "fastest_fps": _fmt(f.fastest_fps, "{:.0f}"),
            "fastest_name": f.fastest_label, "noise": f.noise_note,
            "recall": _fmt(f.best_macro_recall) if f.best_macro_recall is not None else "not measured: no data"})
    latency_tables = []
    for m in results["models"]:
        rows = m.get("matrix") or []
        if rows:
            latency_tables.append({"name": _text(m.get("name")), "headers": [
                "artifact", "device", "size", "median ms", "p99 ms", "FPS (1000/median)", "computes", "accuracy", "macro recall"],
                "rows": [[row_label(r), _text(r.get("device")),
                          _fmt((r.get("bytes") or 0) / 1e6, "{:.2f} MB"), _fmt(r.get("median_ms")), _fmt(r.get("p99_ms")),
                          _fmt(fps(r), "{:.0f}"), _text(r.get("compute_precision") or r.get("error") or "-"),
                          _fmt(r.get("accuracy")), _fmt(r.get("macro_recall"))] for r in rows]})
    parity_rows, quant_rows = [], []
    for m in results["models"]:
        for a in (m.get("convert") or {}).get("artifacts", []):
            parity_rows.append({"cells": [_text(m.get("name")), _text(a.get("format")), _text(a.get("precision")),
                                          _fmt(a.get("max_abs_diff"), "{:.2e}"), _fmt(a.get("top1_agreement"), "{:.1%}"),
                                          _fmt(a.get("tolerance"), "{:.0e}")],
                                "passed": bool(a.get("passed")), "error": _text(a.get("error") or "failed")})
        q = m.get("quantize") or {}
        ratios = {r.format: r for r in figures[m.get("name")].int8}  # from the latency table above, not a second timing
        for a in q.get("artifacts", []):
            ratio = ratios.get(a.get("format"))
            quant_rows.append([_text(m.get("name")), _text(a.get("format")), _text(q.get("calibration", "")), _fmt(a.get("size_ratio"), "{:.2f}"),
                               _fmt((a.get("fp32") or {}).get("macro_recall")), _fmt((a.get("int8") or {}).get("macro_recall")),
                               f"{ratio.ratio:.2f} ({ratio.int8_ms:.3f} / {ratio.fp32_ms:.3f} ms, {ratio.runtime})" if ratio else "-"])
    versions = env.get("versions", {})
    environment = [["CPU", _text(env.get("cpu"))], ["cores", _text(env.get("cores"))], ["OS", _text(env.get("os"))],
                   ["Python", _text(env.get("python"))]] + [[_text(k), _text(v)] for k, v in versions.items()]
    jinja = Environment(autoescape=True)
    table = jinja.from_string(TABLE).module.table
    page = jinja.from_string(TEMPLATE)
    return page.render(
        css=CSS, run=_text(results.get("run")), cpu=_text(env.get("cpu", "")), cores=_text(env.get("cores")),
        ref_name=REFERENCE_NAME, ref_macc=f"{REFERENCE_MACC / 1e6:.2f}", ref_params=f"{REFERENCE_PARAMS / 1e6:.2f}", cards=cards,
        total_s=_fmt(summary.get("seconds"), "{:.1f}") if summary.get("seconds") else None, data=_text(summary.get("data") or "none"),
        images={k: _data_uri(v) for k, v in pngs.items()}, latency_tables=latency_tables, table=table,
        confusion=[(k, _data_uri(v)) for k, v in pngs.items() if k.startswith("confusion_")],
        layers=[(k, _data_uri(v)) for k, v in pngs.items() if k.startswith("layers_")],
        parity_headers=["model", "format", "precision", "max abs diff", "top-1 agreement", "tolerance", "status"],
        parity_rows=parity_rows, quant_rows=quant_rows,
        quant_headers=["model", "format", "calibration", "size ratio", "FP32 macro recall", "INT8 macro recall", "latency INT8 / FP32 (medians of the table above)"],
        environment=environment, optimize=_optimize_tables(results.get("optimize") or []))


def _optimize_tables(reports: list[dict]) -> list[dict]:
    """One table per optimize.json in the run: every candidate, the measure, and why each lost."""
    tables = []
    for r in reports:
        rows = [[_text(c.get("name")), _fmt(c.get("median_ms")), _text(c.get("computes") or "-"),
                 _fmt(c.get("macro_recall") if c.get("macro_recall") is not None else c.get("agreement")),
                 _fmt(c.get("drop"), "{:.2f}"), _text(c.get("verdict"))]
                for c in sorted(r.get("candidates", []), key=lambda c: c.get("median_ms") or float("inf"))]
        note = (f"measure: {r.get('measure')}; max drop {r.get('max_drop')} pt; latency measured on {r.get('measured_on', 'this host')}"
                + (f"; provisional: {r['provisional']}" if r.get("provisional") else ""))
        tables.append({"title": _text(f"{r.get('model')} on {r.get('target')}: chosen {r.get('chosen') or 'none'}"),
                       "headers": ["candidate", "median ms", "computes",
                                   "macro recall" if "macro recall" in str(r.get("measure")) else "top-1 agreement",
                                   "drop pt", "verdict"], "rows": rows,
                       "note": _text(note)})
    return tables
