"""``--help`` in the labels Typer and Click users know: MODEL (not {MODEL}), TEXT/INTEGER/FLOAT (not <str>/<int>),
and no type beside a flag. Typer 0.29 changed these labels; this restores them where its hooks exist and does
nothing on a Typer without them."""

from __future__ import annotations

CLICK_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "bool": "BOOLEAN", "Path": "PATH"}


def _label(param, ctx) -> str | None:
    if getattr(param, "is_flag", False):
        return None
    if getattr(param, "metavar", None) is not None and type(param).__name__ == "TyperOption":
        return param.metavar
    text = _original_display_type(param, ctx)
    if not text:
        return text
    inner = text.strip("<>")
    many = inner.startswith("list[")
    inner = inner[5:-1] if many else inner
    if inner.endswith(" range"):
        label = f"{CLICK_NAMES.get(inner[:-6], inner[:-6].upper())} RANGE"
    elif "|" in inner:
        label = f"[{inner}]"
    else:
        label = CLICK_NAMES.get(inner, inner.upper())
    return label + ("..." if many and type(param).__name__ == "TyperOption" else "")


def _usage_name(param) -> str:
    name = param.display_name_raw
    name = name if param.required else f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


_original_display_type = None


def install() -> None:
    global _original_display_type
    try:
        from typer.core import TyperArgument, TyperOption, _TyperParameter
    except ImportError:
        return
    if _original_display_type is not None or not hasattr(_TyperParameter, "display_type"):
        return
    _original_display_type = _TyperParameter.display_type
    TyperOption.display_type_rich = lambda self, ctx: _label(self, ctx)
    TyperArgument.display_type_rich = lambda self, ctx: _label(self, ctx)
    if hasattr(TyperArgument, "_usage_display_name"):
        TyperArgument._usage_display_name = _usage_name
