"""The kiosk's two looks (normal, and "Letra grande / Alto contraste") as Qt style sheets.

Qt-free, so a unit test can check every text/background pair for WCAG AA (4.5:1).
Touch targets: 15 mm on a 21.5-inch 1920×1080 screen (102.5 px per inch) is 61 px.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

SCREEN_INCHES = 21.5
SCREEN_PIXELS = (1920, 1080)
TARGET_MM = 15.0


def target_px() -> int:
    ppi = math.hypot(*SCREEN_PIXELS) / SCREEN_INCHES
    return math.ceil(TARGET_MM / 25.4 * ppi)


MIN_TARGET_PX = target_px()


@dataclass(frozen=True, slots=True)
class Palette:
    bg: str
    text: str
    heading: str
    muted: str
    error: str
    ok: str
    warn: str
    warn_bg: str
    button: str
    button_text: str
    disabled_text: str
    primary: str
    primary_text: str
    border: str
    scale: float


NORMAL = Palette(
    bg="#f6f7f9",
    text="#202124",
    heading="#0b4f8a",
    muted="#4a4f55",
    error="#b3261e",
    ok="#1b6e34",
    warn="#6b4600",
    warn_bg="#fff4d6",
    button="#e3e6ea",
    button_text="#202124",
    disabled_text="#545960",
    primary="#0b4f8a",
    primary_text="#ffffff",
    border="#5f6368",
    scale=1.0,
)
CONTRAST = Palette(
    bg="#000000",
    text="#ffffff",
    heading="#ffff00",
    muted="#e6e6e6",
    error="#ff9e94",
    ok="#7dff9a",
    warn="#ffff00",
    warn_bg="#262626",
    button="#1a1a1a",
    button_text="#ffffff",
    disabled_text="#b3b3b3",
    primary="#ffd600",
    primary_text="#000000",
    border="#ffffff",
    scale=1.3,
)
# Every text colour with the background it is painted on.
PAIRS = (
    ("text", "bg"),
    ("heading", "bg"),
    ("muted", "bg"),
    ("error", "bg"),
    ("ok", "bg"),
    ("warn", "warn_bg"),
    ("text", "warn_bg"),
    ("button_text", "button"),
    ("disabled_text", "button"),
    ("primary_text", "primary"),
    ("disabled_text", "bg"),
)
# role → (font size in px at scale 1, bold, colour key)
ROLES = {
    "heading": (40, True, "heading"),
    "body": (28, False, "text"),
    "small": (22, False, "muted"),
    "amount": (60, True, "ok"),
    "total": (34, True, "ok"),
    "error": (26, True, "error"),
}


# Keypad keys (width, height): a tall screen has the room for bigger ones.
KEY = (150, 90)
PORTRAIT_KEY = (220, 130)
ERROR_LINES = 2


def stylesheet(p: Palette) -> str:
    colors = asdict(p)

    def px(size: int) -> int:
        return round(size * p.scale)

    # Room for two lines of a message (a line is about 1.35 × the type size).
    error_room = ERROR_LINES * round(px(ROLES["error"][0]) * 1.35)
    labels = "\n".join(
        f'QLabel[role="{role}"] {{ font-size: {px(size)}px; '
        f"font-weight: {'bold' if bold else 'normal'}; color: {colors[key]}; }}"
        for role, (size, bold, key) in ROLES.items()
    )
    return f"""
QWidget {{ background: {p.bg}; color: {p.text}; }}
{labels}
QLabel[role="warn"] {{ font-size: {px(24)}px; font-weight: bold; color: {p.warn};
    background: {p.warn_bg}; padding: 12px; border-radius: 8px; }}
QFrame#banner {{ background: {p.warn_bg}; border: 3px solid {p.warn}; border-radius: 10px; }}
QFrame#banner QLabel {{ background: {p.warn_bg}; color: {p.warn}; font-size: {px(26)}px;
    font-weight: bold; }}
QPushButton {{ font-size: {px(26)}px; padding: 6px 16px; border-radius: 12px;
    min-height: {MIN_TARGET_PX}px; min-width: {MIN_TARGET_PX}px; background: {p.button};
    color: {p.button_text}; border: 2px solid {p.border}; }}
QPushButton:disabled {{ color: {p.disabled_text}; border-style: dashed; }}
QPushButton:checked {{ background: {p.primary}; color: {p.primary_text}; }}
QPushButton#primary {{ background: {p.primary}; color: {p.primary_text}; font-weight: bold;
    border: 2px solid {p.primary}; }}
QPushButton#primary:disabled {{ background: {p.button}; color: {p.disabled_text};
    border: 2px dashed {p.border}; }}
QPushButton#key {{ font-size: {px(36)}px; font-weight: bold; min-width: {KEY[0]}px;
    min-height: {KEY[1]}px; padding: 2px; }}
QWidget[portrait="true"] QPushButton#key {{ min-width: {PORTRAIT_KEY[0]}px;
    min-height: {PORTRAIT_KEY[1]}px; }}
QPushButton#textkey {{ font-size: {px(30)}px; font-weight: bold; padding: 2px; }}
QLabel[role="error"][reserve="true"] {{ min-height: {error_room}px; }}
QLineEdit {{ font-size: {px(34)}px; padding: 8px 12px; background: {p.bg}; color: {p.text};
    border: 3px solid {p.border}; border-radius: 8px; }}
QLineEdit[active="true"] {{ border: 5px solid {p.heading}; }}
QScrollArea {{ border: none; }}
"""
