"""A real installation for the browser: its own data folder and database, migrated and seeded
through the services, served by gunicorn with a Huey consumer beside it, sending e-mail to an
SMTP server on loopback. Each part runs in a process of its own; all stop after the module."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit, urlunsplit
from urllib.request import urlopen

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SEED = textwrap.dedent(
    """
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)

    from kinfolk.accounts.models import User
    from kinfolk.catalog.services import product_create
    from kinfolk.shops.services import shipping_zone_create, shop_create

    owner = User.objects.create_user("maker@example.com", "a long maker password 42")
    shop = shop_create(
        slug="moonlit", name="Moonlit Records", currency="KRW", time_zone="Asia/Seoul",
        country="KR", owner=owner, description="Small-batch vinyl from Seoul.",
    )
    shipping_zone_create(shop=shop, name="Domestic", countries=["KR"], rate=3000, free_over=60000)
    shipping_zone_create(shop=shop, name="World", countries=[], rate=15000)
    product_create(
        shop=shop, name="Night Drive LP", price=35000, stock=5, status="active",
        description="Our second record, **pressed on blue vinyl**.",
    )
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """What the loopback SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def wait_for(self, predicate, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in list(self.messages):
                if predicate(message):
                    return message
            time.sleep(0.2)
        return None


@dataclass
class Site:
    url: str
    data_dir: Path
    inbox: Inbox
    logs: dict[str, Path] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the site's processes' environment

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for name, path in self.logs.items():
            text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []
            parts.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(parts)


def _postgres_database(url: str) -> tuple[str, str, str] | None:
    """Return (admin URL, new database URL, name) for a fresh database when ``url`` is PostgreSQL."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        return None
    name = f"kinfolk_e2e_{uuid.uuid4().hex[:12]}"
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path=f"/{name}")),
        name,
    )


def _admin_sql(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


def _wait_for_health(
    url: str, processes: dict[str, subprocess.Popen], timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode} before the site was up"
                )
        try:
            with urlopen(f"{url}/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url}/health/ did not answer within {timeout:.0f} s")


def _stop(process: subprocess.Popen, gentle: int) -> None:
    if process.poll() is not None:
        return
    process.send_signal(gentle)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    from aiosmtpd.controller import Controller

    data_dir = tmp_path_factory.mktemp("kinfolk-site")
    port, smtp_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{port}"
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    env = {
        key: value
        for key, value in os.environ.items()
        # The test process's own settings must not leak into the site: it runs the real ones.
        # Without REDIS_URL the site queues its tasks in its own data folder, so no other worker
        # on this machine can take them.
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "KINFOLK_DATA_DIR"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kinfolk.settings",
        KINFOLK_DATA_DIR=str(data_dir),
        KINFOLK_BASE_URL=url,
        TESTPAY_CALLBACK_BASE=url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        DEBUG="0",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p),
    )
    postgres = _postgres_database(os.environ.get("DATABASE_URL", ""))
    if postgres:
        admin_url, database_url, database_name = postgres
        _admin_sql(admin_url, f'CREATE DATABASE "{database_name}"')
        env["DATABASE_URL"] = database_url

    processes: dict[str, subprocess.Popen] = {}
    logs = {name: data_dir / f"{name}.log" for name in ("web", "worker")}
    try:
        subprocess.run([sys.executable, "-c", SEED], env=env, cwd=data_dir, check=True, timeout=300)

        from gunicorn.config import KNOWN_SETTINGS

        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "kinfolk.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--access-logfile",
            "-",
        ]
        if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
            web.append("--no-control-socket")
        commands = {"web": web, "worker": [sys.executable, "-m", "django", "run_huey"]}
        for role, command in commands.items():
            log = logs[role].open("wb")
            processes[role] = subprocess.Popen(
                command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_for_health(url, processes)
        yield Site(url=url, data_dir=data_dir, inbox=inbox, logs=logs, env=env)
    finally:
        # gunicorn stops gracefully on TERM. Huey's consumer stops at once on TERM (on INT it
        # waits for idle workers to wake up, up to 10 s); its work here is done by then.
        for process in processes.values():
            _stop(process, signal.SIGTERM)
        smtp.stop()
        if postgres:
            _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')
        for log_name, path in logs.items():
            if path.exists():
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, ARTIFACTS / f"{log_name}.log")


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium; `make test` does it)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must never pass without its browser test
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
