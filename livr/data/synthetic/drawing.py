"""Drawing conventions shared by the procedural tasks: palette, shapes, coloured marks, PNG bytes.

Marked points are rings (outer radius 10 px, 3 px thick at 112 px) whose interior shows the
surface under the point, with the label written beside the ring in black. By default the ring's
COLOUR also says which label it is (`MARK_COLORS`); a task whose BLINK question speaks of
"red-circled points" (visual correspondence) draws every ring in `BLINK_RED` instead, as BLINK's
images do, and the letter beside it is what tells them apart. Scene colours keep every channel in
[SCENE_MIN, SCENE_MAX], so the saturated mark colours and black label text never occur in a
scene: a reader can find marks by exact colour.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

SCENE_MIN, SCENE_MAX = 30, 225
MARK_COLORS = {
    "REF": (255, 255, 255),
    "A": (255, 0, 0),
    "B": (0, 0, 255),
    "C": (0, 255, 0),
    "D": (255, 255, 0),
}
BLINK_RED = (255, 0, 0)  # BLINK's correspondence marks: every point circled in red, its letter beside it
LABEL_COLOR = (0, 0, 0)
RING_RADIUS = 10  # at 112 px; interior diameter 2 * (RING_RADIUS - RING_WIDTH) + 1 = 15 px
RING_WIDTH = 3
BOX_WIDTH = 3

# Scene palette: distinct hues, every channel inside [SCENE_MIN, SCENE_MAX].
PALETTE = {
    "orange": (225, 140, 40),
    "purple": (140, 60, 170),
    "teal": (40, 170, 170),
    "brown": (150, 95, 45),
    "pink": (225, 150, 200),
    "olive": (140, 160, 40),
    "charcoal": (60, 60, 70),
    "green": (60, 120, 60),
    "sky": (100, 150, 225),
    "sand": (225, 215, 130),
    "crimson": (180, 50, 90),
    "grey": (165, 165, 165),
}
PALETTE_NAMES = tuple(PALETTE)
LIGHT_BACKGROUNDS = ((215, 215, 205), (200, 215, 225), (225, 210, 190), (210, 225, 205), (220, 220, 220))
DARK_NAMES = ("orange", "purple", "teal", "brown", "charcoal", "green", "crimson", "sky", "olive")

SHAPES = ("circle", "square", "triangle", "diamond")
SHAPE_PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "diamond": "diamonds"}


def font(k: float) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(9, round(10 * k)))


def draw_shape(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, hw: float, hh: float, fill) -> None:
    """Filled shape inside the box centred at (cx, cy) with half-width hw and half-height hh."""
    box = [round(cx - hw), round(cy - hh), round(cx + hw) - 1, round(cy + hh) - 1]
    if kind in ("circle", "ellipse"):
        draw.ellipse(box, fill=fill)
    elif kind in ("square", "rectangle"):
        draw.rectangle(box, fill=fill)
    elif kind == "triangle":
        draw.polygon([(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) / 2, box[1])], fill=fill)
    elif kind == "diamond":
        mx, my = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        draw.polygon([(mx, box[1]), (box[2], my), (mx, box[3]), (box[0], my)], fill=fill)
    else:
        raise ValueError(f"unknown shape {kind!r}; valid: circle, ellipse, square, rectangle, triangle, diamond")


def ring_radius(k: float) -> int:
    return max(RING_RADIUS, round(RING_RADIUS * k))


def ring_width(k: float) -> int:
    return max(RING_WIDTH, round(RING_WIDTH * k))


def _label(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, k: float, size: int) -> None:
    """Black label text just above-right of a ring (kept inside the image)."""
    f = font(k)
    r = ring_radius(k)
    left, t, rr, b = draw.textbbox((0, 0), text, font=f)
    w, h = rr - left, b - t
    tx = x + r - 2
    ty = y - r - h - 1
    if tx + w > size - 1:
        tx = x - r - w + 2
    if ty < 0:
        ty = y + r + 1
    draw.text((tx - left, ty - t), text, fill=LABEL_COLOR, font=f)


def mark_points(
    img: Image.Image,
    points: dict[str, tuple[float, float]],
    k: float,
    colors: dict[str, tuple[int, int, int]] = MARK_COLORS,
) -> None:
    """A ring at each point, coloured by label from `colors`; labels first so rings are never overwritten."""
    draw = ImageDraw.Draw(img)
    for name, (x, y) in points.items():
        _label(draw, x, y, name, k, img.width)
    r, w = ring_radius(k), ring_width(k)
    for name, (x, y) in points.items():
        x, y = round(x), round(y)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=colors[name], width=w)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def box_iou(a, b) -> float:
    """IoU of two [x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
