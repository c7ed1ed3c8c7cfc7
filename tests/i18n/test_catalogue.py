"""The Korean catalogue ships complete and compiled: every message translated, none fuzzy, the
placeholders kept, and the .mo built from the .po as it is now."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "ko" / "LC_MESSAGES"
# "%%" (a literal percent sign) is matched first so that "%%s" or "%% sold" is not read as a
# placeholder; findall keeps only the placeholders (the group).
PLACEHOLDER = re.compile(r"%%|(%(?:\([a-z_]+\))?[-#0 +]*\d*(?:\.\d+)?[sdrfi])")


@pytest.fixture(scope="module")
def catalogue():
    with open(LC_MESSAGES / "django.po", "rb") as handle:
        return read_po(handle, locale="ko")


def _messages(catalogue):
    return [message for message in catalogue if message.id]


def _strings(message) -> list[str]:
    return list(message.string) if message.pluralizable else [message.string]


def test_every_message_is_translated_and_none_is_fuzzy(catalogue):
    messages = _messages(catalogue)

    assert len(messages) > 400
    untranslated = [m.id for m in messages if not all(s and s.strip() for s in _strings(m))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []
    assert not catalogue.fuzzy


def test_korean_has_one_plural_form(catalogue):
    assert catalogue.num_plurals == 1
    for message in _messages(catalogue):
        if message.pluralizable:
            assert len(message.string) == 1, message.id


def test_translations_keep_their_placeholders(catalogue):
    for message in _messages(catalogue):
        ids = message.id if message.pluralizable else (message.id,)
        expected = set(PLACEHOLDER.findall(ids[-1])) - {""}
        for string in _strings(message):
            assert set(PLACEHOLDER.findall(string)) - {""} == expected, message.id


def test_the_compiled_catalogue_matches_the_po_file(catalogue):
    with open(LC_MESSAGES / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    for message in _messages(catalogue):
        prefix = f"{message.context}\x04" if message.context else ""
        if message.pluralizable:
            assert compiled._catalog.get((prefix + message.id[0], 0)) == message.string[0], (
                message.id
            )
        else:
            assert compiled._catalog.get(prefix + message.id) == message.string, message.id


def test_django_uses_the_catalogue():
    with translation.override("ko"):
        assert translation.gettext("Add to cart") == "장바구니에 담기"
        assert translation.pgettext("Korean address", "Province") == "시/도"
        assert translation.ngettext("%(n)s item", "%(n)s items", 3) % {"n": 3} == "상품 3개"
    with translation.override("en"):
        assert translation.gettext("Add to cart") == "Add to cart"
