"""HTML forms as a browser would submit them: default values and the choices offered."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)  # what a browser would submit as is
    options: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


class _FormParser(HTMLParser):
    """Collects every form's attributes, default values and select/radio options."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(attrs=a))
        if not self.forms:
            return
        form = self.forms[-1]
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
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            form.options[self._select].append(value)
            if self._first_option is None:
                self._first_option = value
                form.fields.setdefault(self._select, value)
            if "selected" in a:
                form.fields[self._select] = value
        elif tag == "textarea" and name:
            form.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def find_form(html: str, *, having: str) -> Form | None:
    """Return the first form of ``html`` with a field named ``having``."""
    parser = _FormParser()
    parser.feed(html)
    return next((f for f in parser.forms if having in f.fields or having in f.options), None)
