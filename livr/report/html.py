"""HTML building blocks of the report: escaping, embedded PNGs, data tables."""

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


def img_tag(uri: str, cls: str, alt: str, **data) -> str:
    attrs = "".join(f' data-{k}="{html.escape(str(v))}"' for k, v in data.items())
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="{uri}"{attrs}>'


def frame_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return '<p class="note">(no rows)</p>'
    return frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.2f}", classes="data", border=0)


def parsed_html(parsed, correct) -> str:
    text = esc(parsed) if parsed is not None else "(unparsable)"
    return f'<span class="{"ok" if correct else "bad"}">{text}</span>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def warning(text: str) -> str:
    return f'<p class="warn">{esc(text)}</p>'
