"""Pieces every task builder shares: writing collected images inside the atomic task dir."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from PIL import Image

ImageSource = Image.Image | Path


def image_writer(images: dict[str, ImageSource]) -> Callable[[Path], None]:
    """Return a `write_task_dir` image writer that saves PIL images / copies files to their
    relative paths inside the temporary task directory."""

    def write(tmp_dir: Path) -> None:
        for rel, src in images.items():
            dest = tmp_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(src, Image.Image):
                src.save(dest)
            else:
                shutil.copyfile(src, dest)

    return write
