"""Forms of the fan's account pages: sign-up and log-in by e-mail."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _


class AccessibleErrorsMixin:
    """Mark fields with errors ``aria-invalid`` and point them at their message, so that screen
    readers read the error with the field (the template gives the message ``id="<id>-error"``)."""

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                bound = self[name]
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"{bound.auto_id}-error"}
                )

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        if field in self.fields:
            self.fields[field].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": f"{self[field].auto_id}-error"}
            )


class SignupForm(AccessibleErrorsMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
        help_text=_("At least 8 characters; not only digits, not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
    )
    shop = forms.CharField(required=False, widget=forms.HiddenInput, max_length=50)
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        if field in {"password1", "password2"}:
            # A rejected password is typed afresh; everything else stays as typed.
            for name in ("password1", "password2"):
                self.fields[name].widget.render_value = False

    def clean(self) -> dict:
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ. Type the same one twice."))
        return data


class LoginForm(AccessibleErrorsMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "This e-mail address and password do not match an account. If you have just signed "
            "up, first confirm your address with the link in the e-mail you received."
        ),
    }

    def __init__(self, request=None, *args, **kwargs) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "autofocus": True, "maxlength": 254}
        )
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class ResetPasswordForm(AccessibleErrorsMixin, PasswordResetForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")


class NewPasswordForm(AccessibleErrorsMixin, SetPasswordForm):
    pass
