"""Writes of fan accounts: sign up (inactive until the address is confirmed) and confirm."""

from __future__ import annotations

from typing import NamedTuple

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from kinfolk.accounts.models import User, normalize_email
from kinfolk.accounts.tokens import confirm_token_read, email_matches
from kinfolk.core import clock
from kinfolk.core.errors import InvalidInput

NAME_MAX_LENGTH = 150


def _email_taken() -> InvalidInput:
    return InvalidInput(
        _("This address is already registered. Log in, or reset your password if you forgot it."),
        field="email",
        code="email_taken",
    )


class SignedUp(NamedTuple):
    user: User
    password_hash: str  # for the confirmation token: set on the account when it is confirmed


@transaction.atomic
def user_signup(*, email: str, password: str, name: str = "", language: str = "") -> SignedUp:
    """Create an inactive, passwordless account that the owner of ``email`` activates with the
    e-mailed link, and return it with the hash of the chosen password for that link to carry.

    The password takes effect only on confirmation, from the link that was followed: whoever
    proves they own the mailbox chooses the password, so a person who signed up first with
    somebody else's address keeps no way in. An address that signed up before but never
    confirmed gets its existing account back (unchanged); the caller sends a fresh link.
    Raises InvalidInput for a bad address, a weak password or an address that already has an
    active account.
    """
    email = normalize_email(email)
    name = (name or "").strip()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid e-mail address, e.g. name@example.com.")
    if len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("Use at most %(n)d characters.") % {"n": NAME_MAX_LENGTH}
    if not errors:
        try:
            password_validation.validate_password(password, user=User(email=email, name=name))
        except ValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if errors:
        first = next(iter(errors))
        raise InvalidInput(errors[first], field=first, errors=errors)

    password_hash = make_password(password)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.is_active or existing.email_confirmed_at is not None:
            raise _email_taken()
        return SignedUp(user=existing, password_hash=password_hash)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                None,  # unusable until confirmed
                name=name,
                is_active=False,
                preferred_language=(language or "")[:10],
            )
    except IntegrityError:
        # The same address signed up at the same moment in another request.
        raise _email_taken() from None
    return SignedUp(user=user, password_hash=password_hash)


@transaction.atomic
def user_confirm_email(*, token: str) -> User:
    """Activate the account named by a confirmation token and return it.

    Raises InvalidInput when the link is expired or not valid, or was already used.
    """
    payload = confirm_token_read(token)
    user = User.objects.select_for_update().filter(pk=payload["u"]).first()
    if user is None or not email_matches(payload, user.email):
        raise InvalidInput(_("This link is not valid."), code="bad_token")
    if user.email_confirmed_at is not None:
        # A used link must not keep working as a way to log in.
        raise InvalidInput(
            _("This address is already confirmed. Log in with your password."),
            code="already_confirmed",
        )
    user.is_active = True
    user.email_confirmed_at = clock.now()
    fields = ["is_active", "email_confirmed_at"]
    if isinstance(payload.get("p"), str) and payload["p"]:
        # The password chosen by whoever signed up and received this link, never an earlier one.
        user.password = payload["p"]
        fields.append("password")
    user.save(update_fields=fields)
    return user
