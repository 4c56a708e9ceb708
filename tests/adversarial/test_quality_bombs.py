"""grader/quality on hostile notebooks: text built to make regular expressions backtrack, and outputs
built to make image decoders explode, must be assessed in bounded, linear time.

Before the rewrite, one markdown cell of ``"<h1" * 200_000`` (600 kB) took 35 s to several minutes,
and ``"[" * 200_000``, ``"<" * 200_000`` or a code cell of ``"np.mean(" * 25_000`` as long: each
opening delimiter rescanned the rest of the text. Every bomb here is 2-10 MB; the bound below is
generous for a slow, shared 2-core machine (they take well under a second on an idle one).
"""

from __future__ import annotations

import base64
import io
import json
import struct
import time
import zlib

import pytest
from PIL import Image, ImageDraw

from grader.quality import assess_quality, vocabulary
from grader.quality import text as quality_text

SECONDS = 5.0


# Plain JSON dicts, as a notebook file holds them (nbformat's objects are slow to build by the 100,000).
def notebook(cells: list) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def markdown(*sources: str) -> dict:
    return notebook([{"cell_type": "markdown", "metadata": {}, "source": s} for s in sources])


def code(*sources: str) -> dict:
    return notebook([{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": i + 1}
                     for i, s in enumerate(sources)])


def with_outputs(outputs: list, text: str = "plt.imshow(x)") -> dict:
    return notebook([{"cell_type": "code", "metadata": {}, "source": text, "outputs": outputs,
                      "execution_count": 1}])


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode()


def large_images(count: int, side: int = 3_000) -> list[str]:
    """Distinct, valid, striped greyscale images of side x side pixels: expensive to decode."""
    image = Image.new("L", (side, side), 255)
    ImageDraw.Draw(image).line([(0, 0), (side, side)], fill=0, width=9)
    payloads = []
    for k in range(count):
        image.putpixel((k, 0), k % 200)
        payloads.append(png(image))
    return payloads


def png_header_bomb(width: int, height: int) -> str:
    """A PNG whose header declares width x height pixels (grey, 8 bits) over a few kB of data:
    decoding it would allocate gigabytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 4)
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    return base64.b64encode(raw).decode()


def striped(side: int, k: int) -> Image.Image:
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    for x in range(k % 7, side, 9):
        draw.line([(x, 0), (x, side)], fill=(k % 256, 0, 0))
    return image


def image_outputs(payloads: list[str], mime: str = "image/png") -> list:
    return [{"output_type": "display_data", "metadata": {}, "data": {mime: p, "text/plain": "<Figure>"}}
            for p in payloads]


BOMBS = {
    # markdown
    "html heading openers": lambda: markdown("<h1" * 1_000_000),
    "unclosed html headings": lambda: markdown("<h2 class='x'>" * 200_000, "<h3>" + "a" * 2_000_000),
    "40,000 blank lines, 50 times": lambda: markdown(*["\n" * 40_000 + "x"] * 50),
    "blank lines with spaces": lambda: markdown(" \n" * 1_500_000),
    "brackets": lambda: markdown("[" * 3_000_000),
    "open images": lambda: markdown("![" * 1_500_000),
    "open links": lambda: markdown("[a](" * 1_000_000),
    "parentheses": lambda: markdown("(" * 3_000_000),
    "dollars": lambda: markdown("$" * 1_000_000, "$$" + "a" * 1_000_000, "$a" * 500_000),
    "backticks and fences": lambda: markdown("`" * 1_000_000, "```" + "\n" * 1_000_000, "~~~" * 300_000),
    "hashes": lambda: markdown("#" * 1_000_000, "# " + " " * 1_000_000 + "x", "# " * 500_000 + "x"),
    "angle brackets": lambda: markdown("<" * 3_000_000),
    "unclosed tags": lambda: markdown("<b " * 1_000_000),
    "setext underlines": lambda: markdown("Title\n" + "=" * 1_000_000 + "x", "-" * 2_000_000),
    "one long word": lambda: markdown("a" * 3_000_000),
    "one long hyphenated word": lambda: markdown("a-" * 1_500_000 + "!"),
    "one long line of words": lambda: markdown("because the model could improve " * 100_000),
    "keyword then spaces": lambda: markdown("error" + " " * 2_000_000 + "x", "improv" + "e" * 2_000_000),
    "sentence breaks": lambda: markdown(". " * 1_500_000),
    "100,000 cells": lambda: markdown(*[f"Some words about the data here, number {i}." for i in range(100_000)]),
    # code
    "code: hashes": lambda: code("#" * 1_000_000, "#" + "(" * 2_000_000),
    "code: commented-out code": lambda: code("# " + "x = f(y) " * 300_000),
    "code: np.mean without a closing parenthesis": lambda: code("np.mean(" * 300_000),
    "code: y != without end": lambda: code("y" * 2_000_000 + " ", "!=" * 1_000_000),
    "code: 40,000 blank lines": lambda: code(*["\n" * 40_000 + "x = 1"] * 50),
    "code: unterminated docstring": lambda: code('"""' + "\n" * 2_000_000, '"""' + "word " * 500_000),
    "code: a million strings": lambda: code("'' " * 1_000_000),
    "code: comment lines": lambda: code("x = 1  # a comment of prose\n" * 100_000),
    "code: unbalanced brackets": lambda: code("([{" * 1_000_000),
    # outputs
    "a 10 MB output text": lambda: with_outputs([stream("Epoch 1/" + "9" * 10_000_000)]),
    "100,000 outputs": lambda: with_outputs([stream("Epoch 1/3 - loss: 0.5\n") for _ in range(100_000)]),
    "undecodable image payloads": lambda: with_outputs(
        image_outputs(["A" * 3_900_000, "iVBORw0KGgo" + "x" * 3_000_000, "!" * 2_000_000])),
    # small files that would decode to gigabytes each: refused on their header
    "image decompression bombs": lambda: with_outputs(
        image_outputs([png_header_bomb(side, side) for side in range(30_000, 30_300)])),
    "large distinct images": lambda: with_outputs(image_outputs(large_images(12))),
    "3,000 distinct small images": lambda: with_outputs(image_outputs([png(striped(120, k)) for k in range(3_000)])),
}

SMALL_BOMBS = {"image decompression bombs", "large distinct images"}  # the harm is in decoding them


@pytest.mark.parametrize("name", list(BOMBS))
def test_bomb_notebook_is_assessed_quickly(name):
    bomb = BOMBS[name]()
    size = len(json.dumps(bomb))
    assert size >= 1_500_000 or name in SMALL_BOMBS, f"{name}: only {size:,} bytes, not a bomb"
    start = time.perf_counter()
    result = assess_quality(bomb, ran_ok=True)
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"{name} ({size / 1e6:.1f} MB): {elapsed:.1f} s"
    assert 0 <= result.estimate <= 1
    assert result.estimate <= 0.5, result.to_markdown()[:2000]  # none of this is a good notebook


def test_a_notebook_read_in_part_says_so():
    result = assess_quality(markdown(*["word " * 50_000] * 20), ran_ok=True)
    assert all("read in part" in item.evidence for item in result.items)
    many = assess_quality(markdown(*["Some words."] * 3_000), ran_ok=True)
    assert "only the first 2,000 of 3,000 cells" in many.items[0].evidence


# The building blocks, on inputs larger than the bounds assess_quality applies: linear on their own.
TEXTS = {
    "<h1": "<h1" * 350_000,
    "<h2>": "<h2>" + "<h1 x>" * 170_000,
    "[": "[" * 1_000_000,
    "![": "![" * 500_000,
    "[a](": "[a](" * 250_000,
    "<": "<" * 1_000_000,
    "<b ": "<b " * 350_000,
    "$": "$" * 1_000_000,
    "$a": "$a" * 500_000,
    "`": "`" * 1_000_000,
    "#": "#" * 1_000_000,
    "# spaces": "# " + " " * 1_000_000 + "x",
    "blank lines": "\n" * 1_000_000,
    "=": "=" * 1_000_000 + "x",
    "a-": "a-" * 500_000,
    "error spaces": "error" + " " * 1_000_000 + "x",
    "np.mean(": "np.mean(" * 125_000,
    "y": "y" * 1_000_000 + " ",
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_text_functions_are_linear_without_the_bounds(name):
    text = TEXTS[name]
    start = time.perf_counter()
    quality_text.split_markdown(text)
    quality_text.split_code(text)
    quality_text.sentences(text)
    quality_text.norm(text)
    vocabulary.ALL_KEYWORDS_RE.findall(text)
    for pattern in vocabulary.CODE_RE.values():
        pattern.findall(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 2 * SECONDS, f"{name} ({len(text) / 1e6:.1f} MB): {elapsed:.1f} s"
