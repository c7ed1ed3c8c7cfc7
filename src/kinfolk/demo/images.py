"""Pictures for the demo drawn with Pillow: shop logos and product images.

Each is a diagonal colour gradient with a simple white shape and, for products, the name; PNG bytes
ready to hand to an ImageField or the catalogue's image service.
"""

from __future__ import annotations

import io
import math
import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

PRODUCT_SIZE = 720
LOGO_SIZE = 320
WHITE = (255, 255, 255, 235)
SOFT = (255, 255, 255, 90)


def _rgb(hex_colour: str) -> np.ndarray:
    value = hex_colour.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)


def gradient(size: int, start: str, end: str) -> Image.Image:
    """Return a square RGBA image fading from ``start`` (top left) to ``end`` (bottom right)."""
    axis = np.linspace(0.0, 1.0, size)
    weight = (axis[None, :] + axis[:, None]) / 2.0
    pixels = _rgb(start) * (1.0 - weight[..., None]) + _rgb(end) * weight[..., None]
    return Image.fromarray(pixels.astype(np.uint8), "RGB").convert("RGBA")


# A system font with wide coverage when the machine has one; Pillow's bundled font otherwise.
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


def _font(size: int) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, bool]:
    """Return a font of ``size`` pixels and whether it has more than Latin-1 punctuation."""
    for path in FONT_FILES:
        try:
            return ImageFont.truetype(path, size), True
        except OSError:
            continue
    # The bundled font needs FreeType; without it the bitmap default still draws text.
    try:
        return ImageFont.load_default(size=size), False
    except (TypeError, OSError):
        return ImageFont.load_default(), False


def _blades(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """Return the outline of a three-bladed propeller: a rose curve, cos(3θ) petals."""
    points = []
    for step in range(360):
        theta = math.radians(step)
        radius = r * (0.22 + 0.78 * abs(math.cos(1.5 * theta)) ** 0.8)
        points.append((cx + radius * math.cos(theta), cy + radius * math.sin(theta)))
    return points


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int]) -> None:
    """Draw ``shape`` in white inside ``box`` (left, top, right, bottom)."""
    left, top, right, bottom = box
    cx, cy = (left + right) // 2, (top + bottom) // 2
    r = (right - left) // 2
    if shape == "disc":
        draw.ellipse(box, fill=WHITE)
        for ring in (0.82, 0.66, 0.5):
            k = int(r * ring)
            draw.ellipse((cx - k, cy - k, cx + k, cy + k), outline=(0, 0, 0, 40), width=2)
        k = int(r * 0.28)
        draw.ellipse((cx - k, cy - k, cx + k, cy + k), fill=(0, 0, 0, 70))
        k = int(r * 0.05)
        draw.ellipse((cx - k, cy - k, cx + k, cy + k), fill=(255, 255, 255, 255))
    elif shape == "square":
        draw.rounded_rectangle(box, radius=r // 10, fill=WHITE)
        k = int(r * 0.55)
        draw.ellipse((cx - k, cy - k, cx + k, cy + k), outline=(0, 0, 0, 60), width=6)
    elif shape == "shirt":
        w = r * 2
        points = [
            (left + w * 0.30, top),
            (left + w * 0.70, top),
            (right, top + w * 0.22),
            (right - w * 0.12, top + w * 0.40),
            (left + w * 0.80, top + w * 0.32),
            (left + w * 0.80, bottom),
            (left + w * 0.20, bottom),
            (left + w * 0.20, top + w * 0.32),
            (left + w * 0.12, top + w * 0.40),
            (left, top + w * 0.22),
        ]
        draw.polygon(points, fill=WHITE)
        draw.ellipse((cx - r * 0.16, top - r * 0.1, cx + r * 0.16, top + r * 0.14), fill=SOFT)
    elif shape == "bag":
        draw.rounded_rectangle((left, cy - r * 0.45, right, bottom), radius=r // 12, fill=WHITE)
        draw.arc((cx - r * 0.5, top, cx + r * 0.5, cy), 180, 360, fill=WHITE, width=max(6, r // 12))
    elif shape == "wave":
        bars = 15
        width = (right - left) / (bars * 1.6)
        for i in range(bars):
            height = r * (0.25 + 0.75 * abs(math.sin(i * 0.9) * math.cos(i * 0.37)))
            x = left + i * width * 1.6
            draw.rounded_rectangle(
                (x, cy - height, x + width, cy + height), radius=int(width / 2), fill=WHITE
            )
    elif shape == "cassette":
        draw.rounded_rectangle(
            (left, cy - r * 0.62, right, cy + r * 0.62), radius=r // 8, fill=WHITE
        )
        for dx in (-0.45, 0.45):
            k = int(r * 0.18)
            x = cx + int(r * dx)
            draw.ellipse((x - k, cy - k - r * 0.1, x + k, cy + k - r * 0.1), fill=(0, 0, 0, 80))
        draw.rectangle((cx - r * 0.5, cy + r * 0.25, cx + r * 0.5, cy + r * 0.5), fill=SOFT)
    elif shape == "drone":
        arm, rotor, width = r * 0.9, r * 0.32, max(8, r // 9)
        for angle in (45, 135, 225, 315):
            x = cx + arm * math.cos(math.radians(angle))
            y = cy + arm * math.sin(math.radians(angle))
            draw.line((cx, cy, x, y), fill=WHITE, width=width)
            draw.ellipse((x - rotor, y - rotor, x + rotor, y + rotor), outline=WHITE, width=6)
        k = r * 0.25
        draw.rounded_rectangle((cx - k, cy - k, cx + k, cy + k), radius=int(k / 3), fill=WHITE)
    elif shape == "propeller":
        draw.polygon(_blades(cx, cy, r), fill=WHITE)
        k = r * 0.16
        draw.ellipse((cx - k, cy - k, cx + k, cy + k), fill=(0, 0, 0, 70))
    elif shape == "goggles":
        draw.rounded_rectangle((left, cy - r * 0.4, right, cy + r * 0.4), radius=r // 4, fill=WHITE)
        for dx in (-0.45, 0.45):
            k = int(r * 0.25)
            x = cx + int(r * dx)
            draw.ellipse((x - k, cy - k, x + k, cy + k), fill=(0, 0, 0, 90))
    elif shape == "battery":
        draw.rounded_rectangle(
            (left, cy - r * 0.45, right - r * 0.12, cy + r * 0.45), radius=r // 10, fill=WHITE
        )
        draw.rectangle((right - r * 0.12, cy - r * 0.15, right, cy + r * 0.15), fill=WHITE)
        draw.polygon(
            [
                (cx + r * 0.05, cy - r * 0.35),
                (cx - r * 0.2, cy + r * 0.05),
                (cx, cy + r * 0.05),
                (cx - r * 0.1, cy + r * 0.35),
                (cx + r * 0.2, cy - r * 0.05),
                (cx, cy - r * 0.05),
            ],
            fill=(0, 0, 0, 90),
        )
    elif shape == "book":
        draw.rounded_rectangle(
            (left + r * 0.2, top, right - r * 0.2, bottom), radius=r // 12, fill=WHITE
        )
        for i in range(5):
            y = top + r * (0.5 + i * 0.25)
            draw.line((left + r * 0.45, y, right - r * 0.45, y), fill=(0, 0, 0, 60), width=6)
    elif shape == "moon":
        draw.ellipse(box, fill=WHITE)
        offset = int(r * 0.45)
        draw.ellipse(
            (left + offset, top - offset // 3, right + offset, bottom - offset // 3),
            fill=(0, 0, 0, 0),
        )
    elif shape == "hexagon":
        points = [
            (
                cx + r * math.cos(math.radians(60 * i + 30)),
                cy + r * math.sin(math.radians(60 * i + 30)),
            )
            for i in range(6)
        ]
        draw.polygon(points, outline=WHITE, width=max(6, r // 10))
        _draw_shape(draw, "propeller", (cx - r // 2, cy - r // 2, cx + r // 2, cy + r // 2))
    else:
        draw.ellipse(box, fill=WHITE)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def product_picture(*, name: str, colours: tuple[str, str], shape: str) -> bytes:
    """Return a PNG of a product: gradient, shape, and the product's name at the bottom."""
    size = PRODUCT_SIZE
    image = gradient(size, *colours)
    # The glow is blurred small and scaled up: the same soft light at a fraction of the cost.
    small = size // 8
    glow = Image.new("RGBA", (small, small), (255, 255, 255, 0))
    ImageDraw.Draw(glow).ellipse(
        (small * 0.15, small * 0.05, small * 0.85, small * 0.75), fill=SOFT
    )
    glow = glow.filter(ImageFilter.GaussianBlur(small // 12)).resize((size, size), Image.BILINEAR)
    image.alpha_composite(glow)
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    margin = int(size * 0.24)
    _draw_shape(draw, shape, (margin, int(size * 0.12), size - margin, int(size * 0.64)))
    font, wide = _font(size // 18)
    if not wide:
        name = name.replace("\u2014", "-").replace("\u2013", "-")
    lines = textwrap.wrap(name, width=26)[:2]
    y = int(size * 0.74)
    for line in lines:
        width = draw.textlength(line, font=font)
        # A faint shadow keeps white text readable on the light gradients.
        draw.text(((size - width) / 2 + 2, y + 2), line, font=font, fill=(0, 0, 0, 80))
        draw.text(((size - width) / 2, y), line, font=font, fill=WHITE)
        y += int(size / 13)
    image.alpha_composite(layer)
    return _png(image)


def logo_picture(*, colours: tuple[str, str], shape: str) -> bytes:
    """Return a PNG logo: the shop's mark in white on a rounded gradient tile."""
    size = LOGO_SIZE
    tile = gradient(size, *colours)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=255)
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    image.paste(tile, (0, 0), mask)
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    margin = size // 5
    _draw_shape(ImageDraw.Draw(layer), shape, (margin, margin, size - margin, size - margin))
    if shape == "moon":
        # Static lines under the moon: the band's name, drawn.
        draw = ImageDraw.Draw(layer)
        for i in range(3):
            y = size - margin // 2 - i * 10
            draw.line((margin, y, size - margin, y), fill=SOFT, width=3)
    image.alpha_composite(layer)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
