"""Writes of fan accounts: sign up (inactive until the address is confirmed) and confirm."""

from __future__ import annotations

from django.contrib.auth import password_validation
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


@transaction.atomic
def user_signup(*, email: str, password: str, name: str = "", language: str = "") -> User:
    """Create an inactive account that the owner of ``email`` activates with the e-mailed link.

    An address that signed up before but never confirmed gets its existing account back
    (unchanged, so that nobody can set the password of an account another person will confirm);
    the caller sends a fresh link. Raises InvalidInput for a bad address, a weak password or an
    address that already has an active account.
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

    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.is_active or existing.email_confirmed_at is not None:
            raise _email_taken()
        return existing
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email,
                password,
                name=name,
                is_active=False,
                preferred_language=(language or "")[:10],
            )
    except IntegrityError:
        # The same address signed up at the same moment in another request.
        raise _email_taken() from None


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
    user.save(update_fields=["is_active", "email_confirmed_at"])
    return user
