"""Certificates of authenticity: a one-page PDF per sold copy, and what a verification code tells.

A sold copy's verification code is printed on its certificate; anyone may check it on the
public verification page, which names the owner only by first name and initial. Freeing a copy
(a cancelled or refunded order) gives it a new code, so the old certificate stops verifying.
The PDF is drawn on request (a few milliseconds) and never stored. Hangul, kana and Han
characters are drawn with the PDF viewer's own CJK fonts (reportlab's CID fonts), so nothing is
embedded and the file stays a few kilobytes.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import segno
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from kinfolk.drops.models import Copy
from kinfolk.orders.models import Order
from kinfolk.shops.models import Shop

CODE_ALPHABET = frozenset("23456789ABCDEFGHJKMNPQRSTUVWXYZ")  # as models.new_verification_code
CODE_LENGTH = 12
# Typed codes: ignore spaces and every kind of dash; anything longer than this is not a code.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc]+")
_MAX_TYPED = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# --- Verification codes and names -----------------------------------------------------------------


def normalize_code(typed: str | None) -> str | None:
    """Return the code a person typed in its stored form, or None when it cannot be a code.

    Case, spaces and dashes do not matter; full-width letters (typed with a CJK input method)
    count as their plain forms.
    """
    text = (typed or "")[:_MAX_TYPED]
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if len(code) != CODE_LENGTH or not set(code) <= CODE_ALPHABET:
        return None
    return code


def display_code(code: str) -> str:
    """Return the code in groups of four, easier to read aloud and to type: ABCD-EFGH-JKMN."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def owner_name(order: Order) -> str:
    """Return the name the fan gave at checkout: the shipping name, else the customer's name.

    Needs ``order.customer`` (select it with the order). Empty when the fan gave none.
    """
    address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
    name = str(address.get("name") or "").strip() or (order.customer.name or "").strip()
    return " ".join(_CONTROL.sub(" ", name).split())


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("HANGUL", "CJK", "HIRAGANA", "KATAKANA"))


def public_name(name: str) -> str:
    """Return as much of ``name`` as a stranger may see: the first name and the last's initial.

    "Ada Lovelace" → "Ada L."; a name in Hangul or Han characters, written family name first
    and usually without spaces, is masked the way Korean sites do: "김민지" → "김*지".
    """
    name = " ".join(name.split())
    if not name:
        return ""
    if any(_is_cjk(char) for char in name):
        compact = name.replace(" ", "")
        if len(compact) <= 2:
            return compact[0] + "*" * (len(compact) - 1)
        return compact[0] + "*" * (len(compact) - 2) + compact[-1]
    parts = name.split(" ")
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[-1][0]}."


# --- Reads --------------------------------------------------------------------------------------


def copy_for_code(code: str) -> Copy | None:
    """Return the sold copy whose certificate carries ``code`` (stored form), or None.

    One indexed query (the code is unique); shop, edition, product, order and customer come
    with it.
    """
    return (
        Copy.objects.select_related("shop", "edition__product", "order__customer")
        .filter(verification_code=code, state=Copy.State.SOLD)
        .first()
    )


def copy_sold_with_order(*, shop: Shop, order: Order, copy_id: int) -> Copy | None:
    """Return the copy ``copy_id`` if it was sold with ``order`` of ``shop``, else None."""
    return (
        Copy.objects.select_related("edition__product")
        .filter(shop=shop, order=order, pk=copy_id, state=Copy.State.SOLD)
        .first()
    )


# --- The certificate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """What a certificate says, in the words and time zone it is printed in."""

    shop_name: str
    edition_name: str
    number: int
    size: int
    owner: str
    sold_on: date
    code: str
    verify_url: str


def certificate_for(copy: Copy, *, shop: Shop, order: Order, verify_url: str) -> Certificate:
    """Return the certificate of a sold ``copy``; the sale's date is the shop's local date."""
    return Certificate(
        shop_name=shop.name,
        edition_name=copy.edition.product.name,
        number=copy.number,
        size=copy.edition.size,
        owner=owner_name(order),
        sold_on=copy.sold_at.astimezone(shop.tzinfo).date(),
        code=copy.verification_code,
        verify_url=verify_url,
    )


def certificate_filename(copy: Copy) -> str:
    """Return the download's file name: certificate-<edition>-<number>.pdf (ASCII only)."""
    edition = slugify(copy.edition.product.slug) or f"edition-{copy.edition_id}"
    return f"certificate-{edition}-{copy.number}.pdf"


_INK = HexColor("#1d2430")
_MUTED = HexColor("#667085")
_ACCENT = HexColor("#1f5f4a")
_LATIN = ("Times-Roman", "Times-Bold")


@functools.cache
def _cid_font(name: str) -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(name))
    return name


def _is_latin(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _cjk_font(text: str) -> str:
    """Return the CJK font of ``text``'s script: Japanese with kana, Chinese with Han characters
    and no Hangul, else Korean (whose collection also has Greek and Cyrillic letters)."""
    names = [unicodedata.name(char, "") for char in text]
    if any(name.startswith(("HIRAGANA", "KATAKANA")) for name in names):
        return _cid_font("HeiseiMin-W3")
    if any(name.startswith("CJK") for name in names) and not any(
        name.startswith("HANGUL") for name in names
    ):
        return _cid_font("STSong-Light")
    return _cid_font("HYSMyeongJo-Medium")


def _runs(text: str, *, bold: bool = False) -> list[tuple[str, str]]:
    """Split ``text`` into (piece, font) runs: Western European letters in Times, the rest in
    a CJK font. Latin letters keep Times's metrics, so a viewer that substitutes its own CJK
    font still spaces "한정판 LP" right; spaces stay in the run they follow."""
    latin_font = _LATIN[bold]
    other_font = None
    runs: list[list[str]] = []
    for char in text:
        if char == " " and runs:
            runs[-1][0] += char
            continue
        if _is_latin(char):
            font = latin_font
        else:
            font = other_font = other_font or _cjk_font(text)
        if runs and runs[-1][1] == font:
            runs[-1][0] += char
        else:
            runs.append([char, font])
    return [(piece, font) for piece, font in runs]


class _Page:
    """A landscape A4 page with text helpers that pick the fonts and keep a line in its width."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.width, self.height = landscape(A4)

    def text(
        self,
        text: str,
        y: float,
        *,
        size: float,
        bold: bool = False,
        colour=_INK,
        x: float | None = None,
        max_width: float = 680,
        font: str | None = None,
    ) -> None:
        """Draw ``text`` centred (or from ``x``), made smaller and then cut to fit."""

        def measure(text: str, size: float) -> tuple[list[tuple[str, str]], float]:
            runs = [(text, font)] if font else _runs(text, bold=bold)
            return runs, sum(pdfmetrics.stringWidth(piece, f, size) for piece, f in runs)

        runs, width = measure(text, size)
        while width > max_width and size > 10:
            size -= 1
            runs, width = measure(text, size)
        while width > max_width and len(text) > 1:
            text = text[:-2] + "…"
            runs, width = measure(text, size)
        self.canvas.setFillColor(colour)
        # One text object for the line: the runs follow each other, so text extraction (and
        # a reader's copy and paste) gets the line whole.
        line = self.canvas.beginText((self.width - width) / 2 if x is None else x, y)
        for piece, piece_font in runs:
            line.setFont(piece_font, size)
            line.textOut(piece)
        self.canvas.drawText(line)

    def frame(self) -> None:
        canvas = self.canvas
        canvas.setStrokeColor(_ACCENT)
        canvas.setLineWidth(2.5)
        canvas.rect(24, 24, self.width - 48, self.height - 48)
        canvas.setLineWidth(0.6)
        canvas.rect(32, 32, self.width - 64, self.height - 64)

    def qr(self, data: str, *, x: float, y: float, size: float) -> None:
        """Draw ``data`` as a QR code of ``size`` points, its lower left corner at (x, y)."""
        rows = list(segno.make(data, error="m", micro=False).matrix_iter(scale=1, border=0))
        module = size / len(rows)
        canvas = self.canvas
        canvas.setFillColor(_INK)
        for r, row in enumerate(rows):
            top = y + size - (r + 1) * module
            start = None
            for c, dark in enumerate([*row, 0]):
                if dark and start is None:
                    start = c
                elif not dark and start is not None:
                    # One rectangle per run of dark modules: a smaller file, no hairline gaps.
                    canvas.rect(
                        x + start * module, top, (c - start) * module, module, stroke=0, fill=1
                    )
                    start = None


def certificate_pdf(certificate: Certificate) -> bytes:
    """Return the certificate as a one-page PDF, in the active language."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=landscape(A4), pageCompression=1)
    number_line = _("No. %(number)s of %(size)s") % {
        "number": f"{certificate.number:,}",
        "size": f"{certificate.size:,}",
    }
    canvas.setTitle(
        f"{_('Certificate of authenticity')} · {certificate.edition_name} · {number_line}"
    )
    canvas.setAuthor(certificate.shop_name)
    canvas.setCreator("Kinfolk")
    page = _Page(canvas)
    page.frame()
    top = page.height
    page.text(_("Certificate of authenticity").upper(), top - 92, size=13, colour=_ACCENT)
    page.text(certificate.edition_name, top - 150, size=32, bold=True)
    page.text(certificate.shop_name, top - 180, size=15, colour=_MUTED)
    page.text(number_line, top - 262, size=40, bold=True)
    page.text(_("Owned by"), top - 312, size=11, colour=_MUTED)
    page.text(certificate.owner or _("the holder"), top - 342, size=24)
    sold_on = _("Sold on %(date)s") % {"date": date_format(certificate.sold_on, "DATE_FORMAT")}
    page.text(sold_on, top - 378, size=13, colour=_MUTED)
    left, qr_size = 72, 92
    page.text(_("Verification code"), 138, size=10, colour=_MUTED, x=left, max_width=520)
    page.text(
        display_code(certificate.code), 112, size=20, x=left, font="Courier-Bold", max_width=520
    )
    page.text(_("Check this certificate at"), 88, size=10, colour=_MUTED, x=left, max_width=520)
    page.text(certificate.verify_url, 70, size=10, x=left, max_width=560, font="Courier")
    page.qr(certificate.verify_url, x=page.width - 72 - qr_size, y=62, size=qr_size)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
