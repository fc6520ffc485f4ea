"""The report's figures (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

from edgeemo.fsutil import atomic_path
from edgeemo.reference import REFERENCE_MACC, REFERENCE_NAME


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # model, device and label names are user text: "$...$" must stay text, not mathtext (nor TeX)
    matplotlib.rcParams["text.parse_math"] = False
    matplotlib.rcParams["text.usetex"] = False
    return plt


FIGURE_TEXT: dict[str, list[str]] = {}  # file name -> every text the figure shows (checked by tests, alt text)


def figure_text(fig) -> list[str]:
    """Titles, axis labels, tick labels, legend entries and annotations of a figure, in drawing order."""
    texts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
        texts += [t.get_text() for t in ax.texts]
    return [t for t in texts if t]


def _save(fig, path: Path) -> Path:
    fig.canvas.draw()  # tick labels exist only once drawn
    FIGURE_TEXT[path.name] = figure_text(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return path


def _points(results: dict) -> list[dict]:
    """(model, artifact, MACC, macro recall) for every evaluated artifact."""
    points = []
    for m in results["models"]:
        macc = (m["profile"] or {}).get("macc") or (m["card"] or {}).get("macc")
        seen = set()
        for row in m["matrix"] or []:
            if row.get("macro_recall") is None or row["path"] in seen:
                continue
            seen.add(row["path"])
            points.append({"model": m["name"], "artifact": f"{row['format']} {row['precision']}", "macc": macc,
                           "macro_recall": row["macro_recall"]})
    return points


def pareto(points: list[dict]) -> list[dict]:
    """Points no other point beats on both MACC (lower) and macro recall (higher)."""
    front = [p for p in points if not any(q["macc"] <= p["macc"] and q["macro_recall"] >= p["macro_recall"]
                                          and (q["macc"], q["macro_recall"]) != (p["macc"], p["macro_recall"]) for q in points)]
    return sorted(front, key=lambda p: p["macc"])


def _card_recall(card: dict) -> tuple[float | None, float | None, str]:
    """(in-domain, cross-domain) macro recall from a zoo card: its test split if it has one, else its validation split."""
    in_domain = (card.get("test") or {}).get("macro_recall")
    source = "test split"
    if in_domain is None:
        in_domain, source = (card.get("validation") or {}).get("macro_recall"), "val split"
    return in_domain, (card.get("cross_domain") or {}).get("macro_recall"), source


def accuracy_vs_latency(results: dict, out: Path) -> Path | None:
    """Each model of the run at its fastest artifact's median latency against its macro recall (measured in this run
    when it had data, else from the zoo card), the retail-0003 architecture starred and its latency marked."""
    from edgeemo.models import list_models, zoo_card

    plt = _plt()
    points = []
    for m in results["models"]:
        rows = [r for r in (m.get("matrix") or []) if r.get("median_ms")]
        if not rows:
            continue
        fastest = min(rows, key=lambda r: r["median_ms"])
        measured = [r["macro_recall"] for r in rows if r.get("macro_recall") is not None]
        card = m.get("card") or {}
        zoo = card.get("source") if card.get("source") in list_models() else m["name"] if m["name"] in list_models() else None
        in_domain, cross, source = _card_recall(zoo_card(zoo))
        if measured:
            in_domain, source = max(measured), "this run's data"
        macc = (m.get("profile") or {}).get("macc") or card.get("macc")
        points.append({"name": m["name"], "ms": fastest["median_ms"], "recall": in_domain, "cross": cross, "source": source,
                       "budget": macc / REFERENCE_MACC if macc else None, "reference": (zoo or m["name"]) == "emonet-resnet10"})
    if not any(p["recall"] is not None for p in points):
        return None
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, p in enumerate(points):
        color = f"C{i}"
        share = f", {p['budget']:.0%} of the MACC budget" if p["budget"] else ""
        if p["recall"] is not None:
            ax.scatter(p["ms"], p["recall"], s=300 if p["reference"] else 60, marker="*" if p["reference"] else "o",
                       color=color, edgecolor="k", zorder=4, label=f"{p['name']} ({p['source']}{share})")
        if p["cross"] is not None:
            ax.scatter(p["ms"], p["cross"], s=60, marker="o", facecolor="none", edgecolor=color, lw=1.5, zorder=4)
        if p["recall"] is not None:
            ax.annotate(p["name"], (p["ms"], p["recall"]), textcoords="offset points", xytext=(9, -12), fontsize=7)
        if p["cross"] is not None:
            ax.annotate("CK+", (p["ms"], p["cross"]), textcoords="offset points", xytext=(9, 3), fontsize=7, color="gray")
    if any(p["cross"] is not None for p in points):
        ax.scatter([], [], s=60, facecolor="none", edgecolor="gray", label="hollow: cross-domain (CK+ dev) from the card")
    reference = [p for p in points if p["reference"]]
    if reference:
        ax.axvline(reference[0]["ms"], color="red", lw=1, ls="--", label=f"{REFERENCE_NAME} architecture's fastest artifact")
    ax.set_xlim(0, max(p["ms"] for p in points) * 1.35)
    ax.set_ylim(0, 1)
    ax.set_xlabel("fastest artifact, median ms (1 thread, batch 1, this machine's CPU)")
    ax.set_ylabel("macro recall")
    ax.set_title("accuracy vs latency")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, out / "accuracy_vs_latency.png")


INTERNAL_PARTS = {"WithoutBiases", "Conv", "Gemm", "MatMul", "Add", "Convolution", "GroupConvolution", "Reshape"}


def layer_label(name: str, width: int = 42) -> str:
    """A graph node's name as the source layer it came from: '/stages/stages.0/conv1/Conv/WithoutBiases' ->
    'stages.0.conv1' (converter internals dropped); long names keep both ends."""
    parts = [p for p in name.replace(":", "/").split("/") if p and p not in INTERNAL_PARTS]
    parts = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p))]
    label = ".".join(parts) or name
    if len(label) > width:
        keep = (width - 1) // 2
        label = label[:keep] + "…" + label[-(width - 1 - keep):]
    return label


def _si(value: float) -> str:
    """20e6 -> '20M', 2.5e6 -> '2.5M'."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:g}{unit}"
    return f"{value:g}"


def _macc_axis(ax, values: list[float]) -> None:
    """Log-scale MACC axis with plain ticks (1M, 2M, 5M, 10M, ...), spanning the values and the budget."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    lo, hi = min(values + [REFERENCE_MACC]) / 1.6, max(values + [REFERENCE_MACC]) * 1.6
    ticks = [m * 10 ** e for e in range(3, 11) for m in (1, 2, 5) if lo <= m * 10 ** e <= hi]
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _si(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def make_plots(results: dict, out: Path) -> dict[str, Path]:
    plt = _plt()
    pngs: dict[str, Path] = {}
    points = _points(results)

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    # the budget lines first and thin, so a model at the budget (the retail-0003 architecture) is drawn over them
    ax.axvline(REFERENCE_MACC, color="red", lw=1, ls="--", zorder=1, label=f"budget: {REFERENCE_NAME} 62.99M MACC")
    ax.axvline(REFERENCE_MACC / 4, color="orange", lw=1, ls=":", zorder=1, label="a quarter of the budget")
    maccs = [p["macc"] for p in points if p["macc"]]
    if points:
        colors = {name: f"C{i}" for i, name in enumerate(sorted({p["model"] for p in points}))}
        for p in points:
            reference = p["model"] == "emonet-resnet10"
            ax.scatter(p["macc"], p["macro_recall"], color=colors[p["model"]], s=150 if reference else 40,
                       marker="*" if reference else "o", edgecolor="k", lw=0.5, alpha=0.85, zorder=3)
        for name, color in colors.items():
            reference = name == "emonet-resnet10"
            ax.scatter([], [], color=color, marker="*" if reference else "o", s=150 if reference else 40, edgecolor="k",
                       lw=0.5, label=f"{name} (retail-0003 architecture)" if reference else name)
        front = pareto(points)
        if len(front) >= 2:
            ax.plot([p["macc"] for p in front], [p["macro_recall"] for p in front], "k--", lw=1, zorder=2,
                    label="Pareto front (fewer MACC, higher recall)")
        ax.set_ylabel("validation macro recall")
        ax.set_ylim(0, 1)
    else:
        ax.text(0.5, 0.5, "accuracy not measured: no data (run with --data)", ha="center", va="center",
                transform=ax.transAxes, fontsize=12)
        for m in results["models"]:
            if m["profile"]:
                maccs.append(m["profile"]["macc"])
                ax.scatter(m["profile"]["macc"], 0.5, s=60, zorder=3)
                ax.annotate(m["name"], (m["profile"]["macc"], 0.5), textcoords="offset points", xytext=(5, 8))
        ax.set_yticks([])
    _macc_axis(ax, maccs)
    ax.set_xlabel("MACC (log scale)")
    ax.set_title("accuracy vs compute")
    ax.legend(fontsize=7, loc="lower left")
    pngs["accuracy_vs_macc"] = _save(fig, out / "accuracy_vs_macc.png")

    latency_plot = accuracy_vs_latency(results, out)
    if latency_plot:
        pngs["accuracy_vs_latency"] = latency_plot

    rows = [(m["name"], r) for m in results["models"] for r in (m["matrix"] or []) if r.get("median_ms")]
    if rows:
        pngs["latency"] = _latency_bars(plt, rows, out)

    for m in results["models"]:
        layers = [layer for layer in (m["profile"] or {}).get("layers", []) if layer["macc"] > 0]
        if not layers:
            continue
        top = sorted(layers, key=lambda layer: layer["macc"], reverse=True)[:12]
        fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(top) + 1.2))
        ax.barh(range(len(top)), [layer["macc"] / 1e6 for layer in top], color="C4")
        ax.set_yticks(range(len(top)), [f"{layer_label(layer['name'])} ({layer['op']})" for layer in top], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("MACC (millions)")
        ax.set_title(f"{m['name']}: top layers of {m['profile']['macc'] / 1e6:.2f}M MACC")
        pngs[f"layers_{m['name']}"] = _save(fig, out / f"layers_{m['name']}.png")

    for m in results["models"]:
        evaluated = [r for r in (m["matrix"] or []) if r.get("confusion")]
        unique = {r["path"]: r for r in evaluated}
        if not unique:
            continue
        items = list(unique.values())
        fig, axes = plt.subplots(1, len(items), figsize=(3.4 * len(items), 3.6), squeeze=False)
        for ax, r in zip(axes[0], items):
            conf = r["confusion"]
            ax.imshow(conf, cmap="Blues")
            for i, row in enumerate(conf):
                for j, v in enumerate(row):
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=6)
            ax.set_xticks(range(len(r["labels"])), r["labels"], fontsize=6, rotation=45, ha="right")
            ax.set_yticks(range(len(r["labels"])), r["labels"], fontsize=6)
            ax.set_title(f"{r['format']} {r['precision']}\nmacro recall {r['macro_recall']:.3f}", fontsize=8)
        fig.suptitle(f"{m['name']}: confusion (rows true, columns predicted)", fontsize=9)
        fig.tight_layout()
        pngs[f"confusion_{m['name']}"] = _save(fig, out / f"confusion_{m['name']}.png")
    return pngs


PRECISION_COLORS = {"fp32": "C0", "fp16": "C1", "int8": "C2"}


def _latency_bars(plt, rows: list[tuple[str, dict]], out: Path) -> Path:
    """Median bars, p99 as a whisker beyond each; the axis follows the medians (a p99 past it is written as a number)."""
    from matplotlib.patches import Patch

    from edgeemo.report.figures import row_label

    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) + 1.6))
    y = list(range(len(rows)))
    medians = [r["median_ms"] for _, r in rows]
    limit = max(medians) * 2.2
    ax.barh(y, medians, height=0.6, color=[PRECISION_COLORS.get(r["precision"], "C7") for _, r in rows], zorder=2)
    for i, (_, r) in enumerate(rows):
        p99 = r.get("p99_ms")
        if p99 and p99 > r["median_ms"]:
            ax.plot([r["median_ms"], min(p99, limit)], [i, i], color="k", lw=1, zorder=3)
            if p99 > limit:
                ax.annotate(f"p99 {p99:.2f} ▸", (limit, i), xytext=(-2, 0), textcoords="offset points", ha="right",
                            va="center", fontsize=6)
            else:
                ax.plot([p99], [i], marker="|", color="k", ms=6, zorder=3)
        ax.annotate(f"{r['median_ms']:.3f}", (r["median_ms"], i), xytext=(3, -7), textcoords="offset points", fontsize=6,
                    color="dimgray")
    ax.set_yticks(y, [f"{name}: {row_label(r)}" for name, r in rows], fontsize=7)
    ax.set_xlim(0, limit)
    ax.invert_yaxis()
    present = [p for p in PRECISION_COLORS if any(r["precision"] == p for _, r in rows)]
    handles = [Patch(color=PRECISION_COLORS[p], label=f"{p.upper()} median") for p in present]
    handles.append(plt.Line2D([], [], color="k", lw=1, marker="|", label="p99 (whisker)"))
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.set_xlabel("latency, ms (1 thread, batch 1)")
    ax.set_title("latency per artifact x runtime (this machine's CPU)")
    return _save(fig, out / "latency.png")
