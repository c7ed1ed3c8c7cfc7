"""HTML forms as a browser would submit them: default values and the choices offered.

The load generator runs on the machine it measures, so reading a page must cost it little: the
tags that make a form are found with one regular expression instead of a full HTML parser (a
checkout page with its list of countries took the parser about 2 ms, several times the scan).
Scripts, styles and comments are skipped first, as a parser would.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html import unescape


@dataclass
class Form:
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)  # what a browser would submit as is
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


# Content a form's tags cannot be in.
_SKIPPED = re.compile(r"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
# The tags a form is made of, with their attributes.
_TAG = re.compile(
    r"<(/?)(form|input|select|option|textarea)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.IGNORECASE
)
_ATTR = re.compile(
    r"""([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""",
)


def _attrs(text: str) -> dict[str, str]:
    attrs = {}
    for name, double, single, bare in _ATTR.findall(text):
        attrs.setdefault(name.lower(), unescape(double or single or bare))
    return attrs


def _forms(html: str) -> list[Form]:
    """Return every form of ``html`` with its default values and select/radio options."""
    forms: list[Form] = []
    select: str | None = None
    first_option = True
    for closing, tag, rest in _TAG.findall(_SKIPPED.sub("", html)):
        tag = tag.lower()
        if closing:
            if tag == "select":
                select = None
            continue
        a = _attrs(rest)
        if tag == "form":
            forms.append(Form(attrs=a))
        if not forms:
            continue
        form = forms[-1]
        name = a.get("name", "")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in {"radio", "checkbox"}:
                form.options[name].append(a.get("value", "on"))
                if "checked" in a:
                    form.fields[name] = a.get("value", "on")
            elif kind not in {"submit", "button", "image", "file"}:
                form.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            select, first_option = name, True
        elif tag == "option" and select:
            value = a.get("value", "")
            form.options[select].append(value)
            if first_option:
                first_option = False
                form.fields.setdefault(select, value)
            if "selected" in a:
                form.fields[select] = value
        elif tag == "textarea" and name:
            form.fields[name] = ""
    return forms


def find_form(html: str, *, having: str) -> Form | None:
    """Return the first form of ``html`` with a field named ``having``."""
    return next((f for f in _forms(html) if having in f.fields or having in f.options), None)
