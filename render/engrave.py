"""Engraving: MusicXML to the first page as SVG (verovio), then to PNG (cairosvg).

verovio draws every musical symbol as a path, except the note in a tempo mark, which it writes as a
character of its SMuFL font embedded as a web font; cairosvg cannot read web fonts, so those few
characters are swapped for their Unicode equivalents in an installed text font (DejaVu Sans).
"""

from __future__ import annotations

import re
from importlib.resources import files

import cairosvg
import verovio

from cadenza.errors import RenderFailed
from render.settings import ScoreSettings

# SMuFL metronome-mark characters (U+ECA0..) and their Unicode look-alikes in DejaVu Sans.
METRONOME_GLYPHS = {"\ueca5": "♩", "\ueca6": "♩", "\ueca7": "♪", "\ueca8": "♪", "\uecb7": "."}
TEXT_FONT = "DejaVu Sans"
VEROVIO_DATA = str(files("verovio") / "data")
_SMUFL_TEXT = re.compile(
    r'<tspan font-family="(?:Leipzig|Bravura|Leland)" font-size="(\d+)px">([^<]*)</tspan>'
)


def first_page_svg(musicxml: bytes, settings: ScoreSettings) -> str:
    """The first page of the score engraved by verovio, as SVG text; RenderFailed when it cannot load it."""
    verovio.enableLog(verovio.LOG_ERROR)
    toolkit = verovio.toolkit(False)
    # verovio keeps its default resource path per thread, set only in the thread that imported it:
    # name the fonts' folder for every toolkit, so engraving works in any thread (render-sheet).
    toolkit.setResourcePath(VEROVIO_DATA)
    toolkit.setOptions(
        {
            "pageWidth": settings.page_width,
            "pageHeight": settings.page_height,
            "scale": settings.scale,
            "adjustPageHeight": True,  # a short piece gets a short picture, not a page of white
            "footer": "none",
            "header": "auto",  # the title and composer
            "breaks": "auto",
            "smuflTextFont": "none",  # the embedded web font is ~50 kB cairosvg ignores anyway
        }
    )
    if not toolkit.loadData(musicxml.decode("utf-8")) or toolkit.getPageCount() < 1:
        raise RenderFailed("the sheet music could not be engraved")
    return str(toolkit.renderToSVG(1))


def with_text_glyphs(svg: str) -> str:
    """`svg` with verovio's font characters in tempo marks replaced by text-font characters."""

    def swap(match: re.Match[str]) -> str:
        size = (
            int(match.group(1)) * 4 // 5
        )  # a SMuFL em is a staff height; the text note reads best a bit smaller
        text = "".join(METRONOME_GLYPHS.get(c, c) for c in match.group(2))
        return f'<tspan font-family="{TEXT_FONT}" font-size="{size}px">{text}</tspan>'

    return _SMUFL_TEXT.sub(swap, svg)


def svg_to_png(svg: str, width: int) -> bytes:
    """PNG bytes of `svg` scaled to `width` pixels, on white (Discord's dark theme would hide black notes)."""
    try:
        png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width, background_color="white")
    except Exception as e:  # cairosvg raises parser and cairo errors of several kinds
        raise RenderFailed("the sheet music picture could not be drawn") from e
    if not isinstance(png, bytes):
        raise RenderFailed("the sheet music picture could not be drawn")
    return png


def engrave_png(musicxml: bytes, settings: ScoreSettings) -> bytes:
    """`score.png`: the first page of `musicxml`, `settings.picture_width` pixels wide."""
    return svg_to_png(with_text_glyphs(first_page_svg(musicxml, settings)), settings.picture_width)
