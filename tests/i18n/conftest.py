"""Tests of the Korean site leave the language as they found it."""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _restore_language():
    # The test client's requests activate the language they ask for in this thread, and nothing
    # deactivates it: a later test that renders without a request would read Korean.
    language = translation.get_language()
    yield
    if language:
        translation.activate(language)
    else:
        translation.deactivate()
