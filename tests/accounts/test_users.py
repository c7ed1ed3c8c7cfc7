"""One account per person: the address is the login, in whatever case it was typed."""

import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from kinfolk.accounts.models import User, normalize_email

pytestmark = pytest.mark.django_db


def test_addresses_are_stored_trimmed_and_lower_case():
    user = User.objects.create_user("  Minji@Example.COM ", "correct horse 42")
    assert user.email == "minji@example.com"
    assert normalize_email(None) == ""


def test_login_works_whatever_the_case_typed():
    User.objects.create_user("minji@example.com", "correct horse 42")
    assert authenticate(username="MINJI@example.com", password="correct horse 42") is not None
    assert authenticate(username="minji@example.com", password="wrong") is None


def test_a_second_account_with_the_same_address_is_refused():
    User.objects.create_user("minji@example.com", "x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="MINJI@example.com")


def test_names_for_display():
    user = User(email="minji@example.com", name="Kim Minji")
    assert (user.get_full_name(), user.get_short_name()) == ("Kim Minji", "Kim")
    assert User(email="a@example.com").get_full_name() == "a@example.com"
