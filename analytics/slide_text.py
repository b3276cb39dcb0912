"""How much room text takes on a slide: widths measured with the fonts the slides name, line
breaking as a presentation program does it (at spaces, and between CJK characters), and the
tokens that must never be broken (numbers).

Slides name Arial for Latin text (Liberation Sans, its metric twin, on Debian) and Noto Sans CJK
SC for Chinese; widths come from those font files through Pillow. Without them (another machine)
a conservative estimate stands in: 0.6 em per Latin character, 1 em per CJK character.
"""
from __future__ import annotations

import re
import subprocess
from functools import lru_cache

LATIN_FONT = "Arial"              # Liberation Sans on Debian (same metrics)
CJK_FONT = "Noto Sans CJK SC"
_FONT_QUERIES = {(False, False): "Liberation Sans", (False, True): "Liberation Sans:bold",
                 (True, False): "Noto Sans CJK SC", (True, True): "Noto Sans CJK SC:bold"}
# Line height as a multiple of the font size: Liberation Sans' ascent + descent is 1.15 em,
# Noto Sans CJK's 1.45 em (LibreOffice sets lines of Chinese 1.5 em apart); a slide in Chinese
# uses the larger throughout.
LINE_HEIGHT = {"en": 1.2, "zh": 1.5}
_MEASURE_SIZE = 200  # px: glyph advances measured at this size, then scaled


def is_cjk(ch: str) -> bool:
    return ord(ch) >= 0x2E80


@lru_cache(maxsize=None)
def _font(cjk: bool, bold: bool):
    """A Pillow font for measuring, or None when the font file is not on this machine."""
    try:
        from PIL import ImageFont

        out = subprocess.run(["fc-match", "-f", "%{file}:%{index}", _FONT_QUERIES[cjk, bold]],
                             capture_output=True, text=True, timeout=10).stdout
        path, _, index = out.rpartition(":")
        wanted = "noto" if cjk else "liberation"
        if wanted not in path.lower():
            return None
        return ImageFont.truetype(path, _MEASURE_SIZE, index=int(index or 0))
    except Exception:  # noqa: BLE001 - no fc-match, no Pillow, unreadable file: estimate
        return None


@lru_cache(maxsize=20000)
def _run_width_em(run: str, cjk: bool, bold: bool) -> float:
    font = _font(cjk, bold)
    if font is None:
        return len(run) * (1.0 if cjk else 0.6)
    return font.getlength(run) / _MEASURE_SIZE


def _runs(text: str):
    """Maximal runs of CJK / non-CJK characters."""
    for match in re.finditer(r"[\u2e80-\U0010ffff]+|[^\u2e80-\U0010ffff]+", text):
        run = match.group(0)
        yield run, is_cjk(run[0])


# LibreOffice (and Word) put extra space between Chinese and other characters ("autospace");
# a quarter em per boundary covers it (measured on LibreOffice's PDF: 0.2-0.25 em).
CJK_LATIN_GAP_EM = 0.25
_BOUNDARY = re.compile(r"(?<=[\u2e80-\U0010ffff])(?=[^\u2e80-\U0010ffff])|"
                       r"(?<=[^\u2e80-\U0010ffff])(?=[\u2e80-\U0010ffff])")


def width_pt(text: str, size: float, bold: bool = False) -> float:
    """The printed width of ``text`` at ``size`` pt."""
    return size * _width_em(text, bold)


@lru_cache(maxsize=50000)  # a deck's table layout measures the same cells at every size tried
def _width_em(text: str, bold: bool) -> float:
    em = sum(_run_width_em(run, cjk, bold) for run, cjk in _runs(text))
    if any(is_cjk(ch) for ch in text):
        em += CJK_LATIN_GAP_EM * len(_BOUNDARY.findall(text))
    return em


def tokens(text: str) -> list[str]:
    """The pieces a line may not be broken inside: runs of non-space, non-CJK characters, and
    each CJK character on its own."""
    return re.findall(r"[\u2e80-\U0010ffff]|[^\s\u2e80-\U0010ffff]+", text)


NUMERIC = re.compile(r"\d")


def is_numeric(text: str) -> bool:
    """A cell made of numbers and their signs ('35 (50.7 %)', '0.99 (0.73–1.36)', '< 0.001'):
    it is kept on one line, so no number is ever broken."""
    return bool(NUMERIC.search(text)) and not any(ch.isalpha() for ch in text)


def min_width_pt(text: str, size: float, bold: bool = False) -> float:
    """The narrowest width that breaks nothing that must stay whole: the whole text for a
    numeric cell, else its longest token."""
    if is_numeric(text):
        return width_pt(text, size, bold)
    return max((width_pt(tok, size, bold) for tok in tokens(text)), default=0.0)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy line breaking of one paragraph into lines no wider than ``width`` pt: at spaces
    and between CJK characters; a token wider than the line is cut by characters (as a
    presentation program would)."""
    pieces = re.findall(r"\s+|[\u2e80-\U0010ffff]|[^\s\u2e80-\U0010ffff]+", text)
    lines, line = [], ""
    for piece in pieces:
        candidate = line + piece
        if width_pt(candidate.rstrip(), size, bold) <= width or not line.strip():
            line = candidate
        else:
            lines.append(line.rstrip())
            line = "" if piece.isspace() else piece
        while width_pt(line.rstrip(), size, bold) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and width_pt(line[:cut], size, bold) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def line_count(text: str, width: float, size: float, bold: bool = False) -> int:
    return sum(1 if width_pt(para, size, bold) <= width else len(wrap(para, width, size, bold))
               for para in text.split("\n"))


def line_height_pt(size: float, lang: str) -> float:
    return size * LINE_HEIGHT.get(lang, LINE_HEIGHT["zh"])
