"""counting: 2..10 same-type, same-colour shapes (14-18 px), non-overlapping; open integer answer."""

from __future__ import annotations

from PIL import Image, ImageDraw

from livr.data.synthetic.drawing import DARK_NAMES, LIGHT_BACKGROUNDS, PALETTE, SHAPE_PLURAL, SHAPES, draw_shape
from livr.data.synthetic.sampling import pick, sample_until

PACKING_TRIES = 100  # fresh packings tried before giving up
PLACEMENT_TRIES = 4000  # random positions tried within one packing


def generate(rng, S, count):
    k = S / 112
    bg = pick(rng, LIGHT_BACKGROUNDS)
    cname = pick(rng, DARK_NAMES)
    kind = pick(rng, SHAPES)
    gap = 3 * k

    def packing():
        """Shapes placed one by one at random positions that keep a gap to every placed one."""
        boxes, tries = [], 0
        while len(boxes) < count and tries < PLACEMENT_TRIES:
            tries += 1
            h = rng.uniform(7, 9) * k
            cx, cy = rng.uniform(h + 2, S - h - 2, size=2)
            if all(abs(cx - bx) >= h + bh + gap or abs(cy - by) >= h + bh + gap for bx, by, bh in boxes):
                boxes.append((cx, cy, h))
        return boxes

    boxes = sample_until(
        packing,
        lambda b: None if len(b) == count else f"only {len(b)} shapes fit without overlap",
        PACKING_TRIES,
        f"counting: packing {count} shapes of {S} px",
    )
    img = Image.new("RGB", (S, S), bg)
    draw = ImageDraw.Draw(img)
    for cx, cy, h in boxes:
        draw_shape(draw, kind, cx, cy, h, h, PALETTE[cname])
    meta = {
        "count": count,
        "shape": kind,
        "color": cname,
        "background": list(bg),
        "shapes": [[round(cx, 2), round(cy, 2), round(2 * h, 2)] for cx, cy, h in boxes],
    }
    return [img], [], str(count), meta, {"object_name": SHAPE_PLURAL[kind]}
