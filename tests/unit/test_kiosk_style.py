"""Both kiosk looks meet WCAG AA (4.5:1) for every text on its background; targets ≥ 15 mm."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from ui.kiosk_style import CONTRAST, MIN_TARGET_PX, NORMAL, PAIRS, ROLES, Palette, stylesheet


def luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_formula_matches_wcags_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("palette", [NORMAL, CONTRAST], ids=["normal", "alto-contraste"])
def test_every_text_colour_reaches_4_5_to_1_on_its_background(palette: Palette) -> None:
    colors = asdict(palette)
    ratios = {(fg, bg): contrast(colors[fg], colors[bg]) for fg, bg in PAIRS}
    assert min(ratios.values()) >= 4.5, ratios
    for _size, _bold, key in ROLES.values():  # every label role is among the checked pairs
        assert (key, "bg") in ratios


def test_large_type_is_larger_and_a_target_is_15_mm_on_a_21_5_inch_screen() -> None:
    assert MIN_TARGET_PX == 61  # 1920×1080 at 21.5": 102.5 px per inch; 15 mm = 0.59 in
    assert CONTRAST.scale > NORMAL.scale
    assert f"min-height: {MIN_TARGET_PX}px" in stylesheet(NORMAL)
    assert "font-size: 52px" in stylesheet(CONTRAST)  # the 40 px heading, scaled
