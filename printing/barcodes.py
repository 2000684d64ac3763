"""Code 128 for the referencia: the printer's own barcode data, and a picture of it.

ESC/POS ``GS k 73`` (Code 128) data starts with a code-set selector (``{A``, ``{B``,
``{C``). In code set C every data BYTE is one pair of digits 0-99, so the 18 digits of a
referencia go as 9 bytes, not as 18 ASCII digits (that would print a different barcode).
"""

from __future__ import annotations

from typing import Any


def code128_data(digits: str) -> str:
    """ESC/POS Code 128 data for a string of digits, as ``str`` of code points 0-127.

    Pairs go in code set C (shortest barcode); an odd last digit switches to code set B.
    """
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("el código de barras de la referencia solo lleva dígitos")
    even = len(digits) - len(digits) % 2
    pairs = "".join(chr(int(digits[i : i + 2])) for i in range(0, even, 2))
    tail = f"{{B{digits[even:]}" if even < len(digits) else ""
    return "{C" + pairs + tail


def modules(digits: str) -> str:
    """The bar/space pattern ('1' bar, '0' space) python-barcode computes for the digits."""
    import barcode

    code = barcode.get_barcode_class("code128")(digits)
    pattern: str = code.build()[0]
    return pattern


def barcode_image(digits: str, *, module_px: int, height_px: int, quiet_modules: int = 10) -> Any:
    """A 1-bit Pillow image of the Code 128 of ``digits``, ``module_px`` dots per module."""
    from PIL import Image, ImageDraw

    pattern = modules(digits)
    width = (len(pattern) + 2 * quiet_modules) * module_px
    image = Image.new("1", (width, height_px), 1)
    draw = ImageDraw.Draw(image)
    x = quiet_modules * module_px
    for bit in pattern:
        if bit == "1":
            draw.rectangle([x, 0, x + module_px - 1, height_px - 1], fill=0)
        x += module_px
    return image
