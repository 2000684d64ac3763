"""A picture of what a thermal printer would print, read back from the ESC/POS bytes.

The demo's file printer writes the raw job and, next to it, one PNG per ticket, so a person
can see the ticket without a printer. It interprets the subset of ESC/POS this project sends
(text, code page, bold, sizes, alignment, Code 128, raster images, feeds, cut) at 203 dpi:
576 dots wide for 80 mm paper, 384 for 58 mm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from printing import barcodes

# ESC t n as numbered in the Epson TM-T20II profile; others are printed as CP437.
_CODE_PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858", 40: "iso8859_15"}
_CHAR_PX = 12  # font A is 12 x 24 dots on Epson 203 dpi printers
_LINE_PX = 24


def paper_pixels(paper_width_mm: int) -> int:
    return 384 if paper_width_mm == 58 else 576


@dataclass
class _Style:
    align: int = 0
    bold: bool = False
    width: int = 1
    height: int = 1
    codec: str = "cp437"


@dataclass
class _Row:
    kind: str  # text | barcode | image | feed
    text: str = ""
    style: _Style = field(default_factory=_Style)
    image: Any = None


def decode_code128(data: bytes) -> str:
    """ESC/POS Code 128 data (after ``GS k 73 n``) back to the characters it encodes."""
    if len(data) < 2 or data[0] != ord("{") or data[1] not in b"ABC":
        raise ValueError("datos de Code 128 sin selector de juego de caracteres")
    code_set, i, out = chr(data[1]), 2, []
    while i < len(data):
        byte = data[i]
        if byte == ord("{") and i + 1 < len(data):
            nxt = chr(data[i + 1])
            i += 2
            if nxt in "ABC":
                code_set = nxt
            elif nxt == "{":
                out.append("{")
            continue  # FNC1-4 and shift carry no data characters for us
        if code_set == "C":
            if byte > 99:
                raise ValueError("byte fuera de rango en el juego C")
            out.append(f"{byte:02d}")
        else:
            out.append(chr(byte))
        i += 1
    return "".join(out)


def _parse(data: bytes) -> list[list[_Row]]:
    """Split the stream into tickets (at each cut) of rows."""
    tickets: list[list[_Row]] = []
    rows: list[_Row] = []
    style = _Style()
    line = bytearray()
    line_style = _Style()

    def flush(force: bool = False) -> None:
        nonlocal line, line_style
        if line or force:
            rows.append(_Row("text", bytes(line).decode(style.codec, "replace"), line_style))
        line = bytearray()

    def mark() -> None:
        nonlocal line_style
        if not line:
            line_style = _Style(**vars(style))

    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            mark()
            flush(force=True)
            i += 1
        elif b == 0x1B and i + 1 < n:
            cmd = data[i + 1]
            arg = data[i + 2] if i + 2 < n else 0
            if cmd == ord("@"):
                style = _Style()
                i += 2
                continue
            if cmd == ord("t"):
                style.codec = _CODE_PAGES.get(arg, "cp437")
            elif cmd == ord("!"):
                style.bold = bool(arg & 0x08)
                style.height = 2 if arg & 0x10 else 1
                style.width = 2 if arg & 0x20 else 1
            elif cmd == ord("E"):
                style.bold = bool(arg & 1)
            elif cmd == ord("a"):
                style.align = arg % 48 if arg >= 48 else arg
            elif cmd == ord("d"):
                flush()
                rows.extend(_Row("feed") for _ in range(arg))
            elif cmd in b"2":
                i += 2
                continue
            i += 3
        elif b == 0x1D and i + 1 < n:
            cmd = data[i + 1]
            arg = data[i + 2] if i + 2 < n else 0
            if cmd == ord("!"):
                style.width = (arg >> 4) + 1
                style.height = (arg & 0x0F) + 1
                i += 3
            elif cmd == ord("V"):
                flush()
                i += 4 if arg in (65, 66) else 3
                tickets.append(rows)
                rows = []
            elif cmd == ord("k"):
                flush()
                if arg <= 6:
                    end = data.index(b"\x00", i + 3)
                    payload = data[i + 3 : end]
                    i = end + 1
                else:
                    length = data[i + 3]
                    payload = data[i + 4 : i + 4 + length]
                    i += 4 + length
                if arg == 73:
                    rows.append(_Row("barcode", decode_code128(payload)))
            elif cmd == ord("v") and i + 7 < n:
                flush()
                width_bytes = data[i + 4] + 256 * data[i + 5]
                height = data[i + 6] + 256 * data[i + 7]
                raster = data[i + 8 : i + 8 + width_bytes * height]
                rows.append(_Row("image", image=_raster(raster, width_bytes, height)))
                i += 8 + width_bytes * height
            else:
                i += 3  # GS h/w/H/f/B/b n and similar one-argument settings
        elif b < 0x20:
            i += 1
        else:
            mark()
            line.append(b)
            i += 1
    flush()
    if rows:
        tickets.append(rows)
    return tickets


def _raster(raster: bytes, width_bytes: int, height: int) -> Any:
    from PIL import Image

    # GS v 0: 1 = black dot; Pillow's "1" mode: 1 = white. Invert while loading.
    inverted = bytes(255 - b for b in raster)
    return Image.frombytes("1", (width_bytes * 8, height), inverted)


def _font() -> Any:
    import barcode
    from PIL import ImageFont

    # python-barcode ships DejaVu Sans Mono: a monospaced font we can count on being there.
    path = Path(barcode.__file__).parent / "fonts" / "DejaVuSansMono.ttf"
    try:
        # Size 19: its advance (11.4 px) keeps 48 columns inside 576 dots.
        return ImageFont.truetype(str(path), 19)
    except OSError:  # pragma: no cover - a broken install
        return ImageFont.load_default()


def render_tickets(data: bytes, paper_px: int = 576) -> list[Any]:
    """One Pillow image per ticket in the ESC/POS stream."""
    from PIL import Image, ImageDraw

    font = _font()
    images = []
    module = 3 if paper_px >= 512 else 2
    for rows in _parse(data):
        pieces: list[Any] = []
        for row in rows:
            if row.kind == "feed":
                pieces.append((Image.new("L", (paper_px, _LINE_PX), 255), 0))
            elif row.kind == "text":
                text = row.text
                line = Image.new("L", (max(1, len(text)) * _CHAR_PX, _LINE_PX), 255)
                draw = ImageDraw.Draw(line)
                draw.text((0, 1), text, font=font, fill=0)
                if row.style.bold:
                    draw.text((1, 1), text, font=font, fill=0)
                w, h = row.style.width, row.style.height
                if (w, h) != (1, 1):
                    line = line.resize((line.width * w, line.height * h))
                pieces.append((line, row.style.align))
            elif row.kind == "barcode":
                digits = row.text
                image = barcodes.barcode_image(digits, module_px=module, height_px=80)
                pieces.append((image.convert("L"), 1))
            elif row.kind == "image":
                pieces.append((row.image.convert("L"), 1))
        height = sum(p.height for p, _ in pieces) + 2 * _LINE_PX
        page = Image.new("L", (paper_px, height), 255)
        y = _LINE_PX
        for piece, align in pieces:
            if piece.width > paper_px:
                piece = piece.crop((0, 0, paper_px, piece.height))
            x = {0: 0, 1: (paper_px - piece.width) // 2, 2: paper_px - piece.width}.get(align, 0)
            page.paste(piece, (x, y))
            y += piece.height
        images.append(page)
    return images


def write_previews(data: bytes, stem: Path, paper_px: int = 576) -> list[Path]:
    """Write ``<stem>-1.png``, ``<stem>-2.png``... one per ticket; return their paths."""
    paths = []
    for number, image in enumerate(render_tickets(data, paper_px), start=1):
        path = stem.with_name(f"{stem.name}-{number}.png")
        image.save(path)
        paths.append(path)
    return paths
