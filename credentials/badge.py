"""The badge image of a competency: one design, drawn as SVG (from `templates/credentials/badge.svg`) and as PNG
(Pillow, already a dependency for the dataset cards), so that both baked formats show the same badge.

The layout (lines of the competency name, their sizes and heights) is computed once here and handed to both
renderers; neither reads the database.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

from django.template.loader import render_to_string
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

SIZE = 512
COLORS = {
    "gold": "#f0b429",  # the site's icon: a gold check on navy
    "face": "#14213d",
    "face_top": "#24406e",
    "text": "#ffffff",
    "muted": "#c9d3e3",
}
# The SVG's ring is gold at 55 % opacity over the navy face; Pillow draws the colour that gives.
RING_ON_FACE = "#8e7232"
GEOMETRY = {"rim": 244, "face": 222, "ring": 204, "label_y": 382, "issuer_y": 420}
# The icon's check mark (favicon.svg, "M9 17l5 5 9-12" on 32 px), scaled and centred above the name.
CHECK = ((211, 138), (241, 168), (295, 96))
# Characters per line and font size, by how many lines the name needs (longer names get smaller type).
WRAP = {1: (14, 46), 2: (18, 36), 3: (22, 28)}
NAME_BOTTOM_Y = 318  # baseline of the last line of the name


@dataclass(frozen=True)
class Line:
    text: str
    size: int
    y: int


def _wrapped(name: str) -> tuple[list[str], int]:
    """The name's lines and their font size: the fewest lines that hold it, three at most (then an ellipsis)."""
    for count, (width, size) in WRAP.items():
        lines = textwrap.wrap(name, width=width, break_long_words=True)
        if len(lines) <= count:
            return lines, size
    return [*lines[:2], lines[2][: width - 1].rstrip() + "…"], size


def name_lines(name: str) -> list[Line]:
    """The competency name as the badge shows it, each line with its size and baseline."""
    lines, size = _wrapped(" ".join(name.split()) or "Competency")
    step = int(size * 1.2)
    first = NAME_BOTTOM_Y - step * (len(lines) - 1)
    return [Line(text, size, first + step * n) for n, text in enumerate(lines)]


def _issuer_line(issuer: str) -> str:
    return textwrap.shorten(issuer, width=34, placeholder="…")


def badge_svg(*, name: str, issuer: str, baked: str = "") -> bytes:
    """The SVG badge; `baked` is the credential's JSON for the `openbadges:credential` element (or empty)."""
    context = {
        "size": SIZE,
        "name": name,
        "issuer": issuer,
        "issuer_line": _issuer_line(issuer),
        "lines": name_lines(name),
        "colors": COLORS,
        "geometry": GEOMETRY,
        "check_path": "M{} {} L{} {} L{} {}".format(*(c for point in CHECK for c in point)),
        "baked": baked,
        "namespace": "https://purl.imsglobal.org/ob/v3p0",
    }
    return render_to_string("credentials/badge.svg", context).encode()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled scalable font: the same on every machine, nothing to install.
    return ImageFont.load_default(size=size)


def _gradient(size: tuple[int, int]) -> Image.Image:
    """The face's top-to-bottom gradient (the SVG's `badge-face`)."""
    top, bottom = Image.new("RGBA", size, COLORS["face_top"]), Image.new("RGBA", size, COLORS["face"])
    return Image.composite(bottom, top, Image.linear_gradient("L").resize(size))


def _disc_mask(size: tuple[int, int], radius: int) -> Image.Image:
    mask = Image.new("L", size, 0)
    cx, cy = size[0] // 2, size[1] // 2
    ImageDraw.Draw(mask).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    return mask


def _draw(scale: int, name: str, issuer: str) -> Image.Image:
    image = Image.new("RGBA", (SIZE * scale, SIZE * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = SIZE * scale // 2

    def disc(radius: int, **style: object) -> None:
        r = radius * scale
        draw.ellipse((centre - r, centre - r, centre + r, centre + r), **style)  # type: ignore[arg-type]

    disc(GEOMETRY["rim"], fill=COLORS["gold"])
    image.paste(_gradient(image.size), mask=_disc_mask(image.size, GEOMETRY["face"] * scale))
    disc(GEOMETRY["ring"], outline=RING_ON_FACE, width=3 * scale)
    draw.line([(x * scale, y * scale) for x, y in CHECK], fill=COLORS["gold"], width=20 * scale, joint="curve")
    for x, y in (CHECK[0], CHECK[-1]):  # round caps, as the SVG's stroke-linecap
        draw.ellipse(((x - 10) * scale, (y - 10) * scale, (x + 10) * scale, (y + 10) * scale), fill=COLORS["gold"])
    for line in name_lines(name):
        draw.text((centre, line.y * scale), line.text, font=_font(line.size * scale), fill=COLORS["text"], anchor="ms")
    label = _font(24 * scale)
    draw.text((centre, GEOMETRY["label_y"] * scale), "PROFICIENT", font=label, fill=COLORS["gold"], anchor="ms")
    issuer_font = _font(19 * scale)
    draw.text(
        (centre, GEOMETRY["issuer_y"] * scale),
        _issuer_line(issuer),
        font=issuer_font,
        fill=COLORS["muted"],
        anchor="ms",
    )
    return image


def badge_png(*, name: str, issuer: str, baked: str = "") -> bytes:
    """The PNG badge; `baked` goes into an uncompressed iTXt chunk `openbadgecredential` (OB 3.0 baking)."""
    # Drawn at twice the size and scaled down: Pillow's shapes have no anti-aliasing of their own.
    image = _draw(2, name, issuer).resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    info = PngInfo()
    if baked:
        info.add_itxt("openbadgecredential", baked, lang="", tkey="", zip=False)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, optimize=True)
    return buffer.getvalue()
