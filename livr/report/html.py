"""HTML building blocks of the report: escaping, embedded PNGs, compact data tables."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd


def esc(x) -> str:
    return "" if x is None else html.escape(str(x))


def png_uri(image) -> str:
    """A PIL image or a matplotlib figure as a PNG data URI (the page is one self-contained file)."""
    buf = io.BytesIO()
    if hasattr(image, "savefig"):
        import matplotlib.pyplot as plt

        image.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        plt.close(image)
    else:
        image.save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def pyplot():
    """matplotlib's pyplot on the non-interactive backend (the report runs headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def img_tag(uri: str, cls: str, alt: str, **data) -> str:
    attrs = "".join(f' data-{k}="{html.escape(str(v))}"' for k, v in data.items())
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="{uri}"{attrs}>'


def missing(v) -> bool:
    """None, NaN or pandas' NA (a CSV's empty cell)."""
    return v is None or bool(pd.isna(v))


def number(v, signed: bool = False) -> str:
    """A percentage or difference at 2 decimals ('' when missing)."""
    return "" if missing(v) else f"{v:+.2f}" if signed else f"{v:.2f}"


def interval(low, high) -> str:
    return "" if missing(low) or missing(high) else f"[{low:.2f}, {high:.2f}]"


def with_interval(v, low, high, signed: bool = False) -> str:
    """A value with its 95% interval below it, small; a difference whose interval excludes 0 is coloured."""
    if missing(v):
        return ""
    cls = ""
    if signed and not missing(low) and not missing(high):
        cls = ' class="pos"' if low > 0 else ' class="neg"' if high < 0 else ""
    ci = interval(low, high)
    return f"<span{cls}>{number(v, signed)}</span>" + (f'<br><span class="ci">{ci}</span>' if ci else "")


def label(name: str) -> str:
    """A snake_case name as header text that wraps at its words."""
    return esc(str(name).replace("_", " "))


def merge_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column X with X_ci_low and X_ci_high (`accuracy` and `delta`: ci_low, ci_high) folded
    into one text column 'X [low, high]', so a long table stays narrow."""
    frame = frame.copy()
    for col in list(frame.columns):
        bounds = [(f"{col}_ci_low", f"{col}_ci_high")] + (
            [("ci_low", "ci_high")] if col in ("accuracy", "delta") else []
        )
        for low, high in bounds:
            if low in frame.columns and high in frame.columns:
                signed = "delta" in col or "minus" in col
                frame[col] = [
                    f"{number(v, signed)} {interval(lo, hi)}".strip()
                    for v, lo, hi in zip(frame[col], frame[low], frame[high])
                ]
                frame = frame.drop(columns=[low, high])
                break
    return frame


def frame_html(frame: pd.DataFrame, digits: int = 2) -> str:
    """A data table, numbers at `digits` decimals, intervals folded into their value's column."""
    frame = merge_intervals(frame)
    frame.columns = [str(c).replace("_", " ") for c in frame.columns]
    return frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.{digits}f}", classes="data", border=0)


def details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>{body}</details>"


def section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{esc(title)}</h2>\n{body}</section>\n'


def parsed_html(parsed, correct) -> str:
    text = esc(parsed) if parsed is not None else "(unparsable)"
    return f'<span class="{"ok" if correct else "bad"}">{text}</span>'


def warning(text: str) -> str:
    return f'<p class="warn">{esc(text)}</p>'
