"""The confirmation e-mail is sent by the worker through a real SMTP server, and a mail server
that is down neither fails the sign-up nor loses the e-mail: the task is retried."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from kinfolk.accounts.models import User
from tests.conftest import _free_port

# Transactional: the sign-up commits for real, so its on-commit enqueue runs, and the task's own
# connection handling cannot break a test-wide transaction.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long fan password 42"


def _sign_up(client):
    return client.post(
        reverse("accounts:signup"),
        {
            "email": "fan@example.com",
            "name": "Kim Minji",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )


def _link(inbox) -> str:
    [message] = inbox.messages
    match = re.search(r"http://[^/\s]+(/accounts/confirm/[^\s\"]+/)", inbox.bodies(message))
    assert match
    return match.group(1)


def test_the_worker_delivers_the_confirmation_link(client, smtp_server, run_tasks):
    response = _sign_up(client)

    assert response.status_code == 303
    assert smtp_server.messages == []  # nothing is sent inside the request
    assert run_tasks() == 1
    [message] = smtp_server.messages
    assert message["To"] == "fan@example.com"
    assert client.get(_link(smtp_server)).status_code == 302
    assert User.objects.get(email="fan@example.com").is_active


def test_a_mail_server_that_is_down_does_not_fail_the_sign_up(
    client, smtp_server, run_tasks, settings
):
    # Given a mail server that refuses connections
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = _free_port()

    # When a fan signs up
    response = _sign_up(client)

    # Then the sign-up succeeds, the account is stored, and the failed send is scheduled again
    assert response.status_code == 303
    assert User.objects.filter(email="fan@example.com", is_active=False).exists()
    run_tasks()
    assert smtp_server.messages == []
    [retry] = HUEY.read_schedule(dt.datetime.max)
    assert retry.retries == 4

    # And once the server is back, the retry delivers the link
    settings.EMAIL_PORT = working_port
    HUEY.execute(retry, timestamp=retry.eta)
    assert client.get(_link(smtp_server)).status_code == 302
