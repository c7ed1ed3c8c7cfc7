"""Shared fixtures: data built through the services, the task queue, and a real SMTP server."""

from __future__ import annotations

import itertools
import socket

import pytest
from django.core import mail
from hypothesis import settings as hypothesis_settings

from kinfolk.accounts.models import User
from kinfolk.catalog.services import product_create
from kinfolk.shops.services import shipping_zone_create, shop_create

_serial = itertools.count(1)

# No example database in the work tree, and no deadline: a loaded CI machine is slow, not wrong.
hypothesis_settings.register_profile("kinfolk", database=None, deadline=None)
hypothesis_settings.load_profile("kinfolk")


@pytest.fixture
def run_tasks():
    """Return a function that runs every queued background task (the worker, on demand)."""
    from huey.contrib.djhuey import HUEY

    def run() -> int:
        count = 0
        while (task := HUEY.dequeue()) is not None:
            HUEY.execute(task)
            count += 1
        return count

    HUEY.flush()
    yield run
    HUEY.flush()


@pytest.fixture
def make_user(db):
    def make(email: str | None = None, password: str = "correct horse 42", **extra) -> User:
        from kinfolk.core import clock

        extra.setdefault("email_confirmed_at", clock.now())
        return User.objects.create_user(
            email or f"user{next(_serial)}@example.com", password, **extra
        )

    return make


@pytest.fixture
def make_shop(db, make_user):
    """Return a factory of shops with shipping zones (KRW/Seoul by default)."""

    def make(
        slug: str | None = None,
        *,
        currency: str = "KRW",
        time_zone: str = "Asia/Seoul",
        country: str = "KR",
        owner: User | None = None,
        **extra,
    ):
        n = next(_serial)
        shop = shop_create(
            slug=slug or f"shop{n}",
            name=extra.pop("name", f"Shop {n}"),
            currency=currency,
            time_zone=time_zone,
            country=country,
            owner=owner or make_user(),
            **extra,
        )
        domestic = 3000 if currency == "KRW" else 500
        shipping_zone_create(
            shop=shop,
            name="Domestic",
            countries=[country],
            rate=domestic,
            free_over=domestic * 20,
        )
        shipping_zone_create(shop=shop, name="World", countries=[], rate=domestic * 5)
        return shop

    return make


@pytest.fixture
def make_product(db):
    def make(shop, *, name: str | None = None, price: int = 20000, stock: int | None = 10, **extra):
        return product_create(
            shop=shop,
            name=name or f"Product {next(_serial)}",
            price=price,
            stock=stock,
            status=extra.pop("status", "active"),
            **extra,
        )

    return make


@pytest.fixture
def shop(make_shop):
    return make_shop("moonlit")


@pytest.fixture
def product(shop, make_product):
    return make_product(shop, name="Vinyl LP", price=35000, stock=5)


@pytest.fixture
def kr_address():
    return {
        "name": "김민지",
        "street_address": "세종대로 110",
        "city": "중구",
        "country_area": "서울특별시",
        "postal_code": "04524",
        "country_code": "KR",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Inbox:
    """Messages received by the loopback SMTP server, parsed with the e-mail package."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def bodies(self, message) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""


@pytest.fixture
def smtp_server(settings):
    """Run a real SMTP server on loopback and point Django's SMTP backend at it."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()
        mail.outbox = []


@pytest.fixture(autouse=True)
def _default_language():
    """Give every test the default language back: a Korean request leaves Korean active."""
    from django.conf import settings as django_settings
    from django.utils import translation

    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Start every test with no rate-limit counts: they live in a cache shared by processes
    (files, or Redis), which outlives a test as a database row would not."""
    from django.core.cache import caches

    caches["ratelimit"].clear()
    yield
