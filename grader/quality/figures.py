"""Which image outputs of a handed-in notebook are figures.

The rubric reads the outputs stored in the notebook the student handed in: the student's own run,
not the grader's. Anyone can paste a 1x1 pixel PNG fifty times into a notebook's JSON, so an image
output counts as a figure only if

- it is a PNG, JPEG or GIF whose base64 text is at most ``MAX_IMAGE_BASE64`` characters (larger
  ones are not read), that decodes, whose header declares at most ``MAX_PIXELS`` pixels (checked
  before any pixel is decoded: a decompression bomb never expands), and at least ``MIN_SIDE``
  pixels on each side;
- it is not one flat colour: at least ``MIN_DETAIL`` of its pixels (on a copy reduced to at most
  128 pixels a side) differ clearly from its dominant colour;
- or it is an SVG of at most ``MAX_IMAGE_BASE64`` characters with at least ``MIN_SVG_ELEMENTS``
  drawing elements (paths, lines, text...);
- and it is not the same image as one counted before (a figure shown twice counts once).

At most ``MAX_CHECKED`` distinct images and ``MAX_TOTAL_PIXELS`` pixels are decoded per notebook;
the rest do not count.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import warnings
from typing import Any

from PIL import Image, ImageChops

MAX_IMAGE_BASE64 = 4_000_000  # ~3 MB of image: a matplotlib figure is 20-200 kB
MAX_PIXELS = 12_000_000  # 4000 x 3000
MIN_SIDE = 100
MIN_DETAIL = 0.001  # share of pixels that differ from the dominant colour
MIN_SVG_ELEMENTS = 10
MAX_CHECKED = 200  # distinct images looked at per notebook
MAX_TOTAL_PIXELS = 32_000_000  # pixels decoded per notebook: 100 ordinary figures
_RASTER = ("image/png", "image/jpeg", "image/gif")
_SVG = "image/svg+xml"
IMAGE_MIME = (*_RASTER, _SVG)
_SVG_ELEMENTS = ("<path", "<line", "<polyline", "<polygon", "<rect", "<circle", "<ellipse", "<text",
                 "<use", "<image")


def _payload(value: Any) -> str | None:
    """The output's text (a str, or a list of str in raw JSON), or None when too large or not text."""
    if isinstance(value, str):
        return value if len(value) <= MAX_IMAGE_BASE64 else None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        if sum(len(v) for v in value) <= MAX_IMAGE_BASE64:
            return "".join(value)
    return None


def _flat(image: Image.Image) -> bool:
    """One colour (transparency composited over white), up to JPEG noise and a few stray pixels."""
    rgba = image.convert("RGBA")
    factor = -(-max(rgba.size) // 128)
    if factor > 1:
        rgba = rgba.reduce(factor)  # box average: a 1-pixel line survives as a lighter line
    rgb = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    total = rgb.width * rgb.height
    _, dominant = max(rgb.getcolors(total) or [(total, (255, 255, 255))])
    difference = ImageChops.difference(rgb, Image.new("RGB", rgb.size, dominant)).convert("L")
    differing = sum(difference.histogram()[8:])
    return differing < MIN_DETAIL * total


def _svg_is_figure(text: str) -> bool:
    lowered = text.lower()
    return sum(lowered.count(element) for element in _SVG_ELEMENTS) >= MIN_SVG_ELEMENTS


class FigureCheck:
    """Counts the figures of one notebook: decodes each distinct image once, within budgets."""

    def __init__(self) -> None:
        self.verdicts: dict[bytes, bool] = {}  # digest of the output's text -> is a figure
        self.pixels = 0  # decoded so far
        self.rejected = 0  # image outputs that are not figures (repeats of a counted figure aside)

    def count(self, data: Any) -> int:
        """1 if this output's ``data`` bundle holds a figure not counted before, else 0."""
        if not isinstance(data, dict):
            return 0
        mimes = [mime for mime in IMAGE_MIME if mime in data]
        for mime in mimes:
            text = _payload(data.get(mime))
            if not text:
                continue
            digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            if digest not in self.verdicts:
                if len(self.verdicts) >= MAX_CHECKED:
                    break
                self.verdicts[digest] = _svg_is_figure(text) if mime == _SVG else self._raster_is_figure(text)
                if self.verdicts[digest]:
                    return 1
            elif self.verdicts[digest]:
                return 0  # the same figure again: counted once
        self.rejected += bool(mimes)
        return 0

    def _raster_is_figure(self, text: str) -> bool:
        try:
            data = base64.b64decode(text.encode("ascii", "ignore"))
        except (binascii.Error, ValueError):
            return False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data)) as image:  # reads the header only
                    width, height = image.size
                    pixels = width * height
                    if min(width, height) < MIN_SIDE or pixels > MAX_PIXELS:
                        return False
                    if self.pixels + pixels > MAX_TOTAL_PIXELS:
                        return False
                    self.pixels += pixels
                    image.draft("RGB", (256, 256))  # JPEG: decode at a reduced scale
                    image.load()
                    return not _flat(image)
        except Exception:  # noqa: BLE001 - a hostile file can make a decoder raise anything; it is no figure
            return False
