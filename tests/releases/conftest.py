"""Fixtures of the fan side of releases: releases made through the maker's services with real
(WAV) files, a movable clock, and reading links out of real e-mails."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import struct
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kinfolk.core import clock
from kinfolk.releases.services.setup import release_create, release_file_add

START = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def wav_bytes(seconds: float = 0.5, rate: int = 8000, pitch: float = 440.0) -> bytes:
    """Return a real WAV file of a sine tone (different pitches give different bytes)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * n / rate)))
            for n in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


SONG = wav_bytes(pitch=440.0)
PREVIEW = wav_bytes(seconds=0.2, pitch=660.0)


@pytest.fixture
def make_release(shop):
    """Return a factory of active releases of ``shop`` with one download file (a song)."""

    def make(
        name: str = "Night Drive",
        *,
        file_name: str = "01 - Night Drive.wav",
        content: bytes = SONG,
        preview: bytes | None = None,
        **options,
    ):
        options.setdefault("status", "active")
        release = release_create(shop=shop, name=name, **options)
        release_file_add(
            shop=shop,
            release=release,
            upload=SimpleUploadedFile(file_name, content, "audio/wav"),
        )
        if preview is not None:
            release_file_add(
                shop=shop,
                release=release,
                upload=SimpleUploadedFile("preview.wav", preview, "audio/wav"),
                role="preview",
            )
        return release

    return make


@pytest.fixture
def free_release(make_release):
    return make_release()


@pytest.fixture
def moving_clock():
    """A clock set to START; ``moving_clock.advance(hours=...)`` moves it."""

    class Clock:
        def __init__(self) -> None:
            self.now = START

        def advance(self, **delta) -> dt.datetime:
            self.now += dt.timedelta(**delta)
            return self.now

        def __call__(self) -> dt.datetime:
            return self.now

    moving = Clock()
    clock.set_now(moving)
    yield moving
    clock.set_now(None)


def link_in(text: str, fragment: str) -> str:
    """Return the path of the first absolute link in ``text`` containing ``fragment``."""
    for url in re.findall(r"https?://\S+", text):
        if fragment in url:
            return re.sub(r"^https?://[^/]+", "", url)
    raise AssertionError(f"no link with {fragment!r} in:\n{text}")


def body_of(message) -> str:
    """Return the plain-text body of a message (a Django EmailMessage or a parsed e-mail)."""
    if hasattr(message, "get_body"):
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""
    return message.body


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty caches: rate-limit counters live there."""
    from django.conf import settings
    from django.core.cache import caches

    for name in settings.CACHES:
        caches[name].clear()
    yield
    for name in settings.CACHES:
        caches[name].clear()
