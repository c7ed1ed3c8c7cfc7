"""The fan's own data, shop by shop (``/accounts/data/``): download everything a shop holds about
them, or ask a shop to erase it, carried out at once and confirmed by e-mail.

A fan reaches only the records linked to their account (``customer.account == request.user``).
Records not linked to an account (a guest's orders under another address, an imported list)
cannot be claimed here, since nothing proves who owns them: the shop's staff handle those requests
from the dashboard after checking who is asking.
"""

from __future__ import annotations

import json
import logging
import smtplib
from email.utils import formataddr, parseaddr

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kinfolk.accounts.models import User
from kinfolk.core.errors import KinfolkError
from kinfolk.crm.models import Customer, Erasure
from kinfolk.crm.services.privacy import (
    customer_data_export,
    customer_erase,
    customers_of_account,
)
from kinfolk.storefront.forms import AccessibleErrorsMixin
from kinfolk.storefront.views.shop_request import see_other

logger = logging.getLogger(__name__)


def _own_record(request: HttpRequest, shop: str) -> Customer:
    """Return the fan's own record in the shop ``shop``; 404 for any other shop."""
    customer = customers_of_account(account=request.user).filter(shop__slug=shop[:50]).first()
    if customer is None:
        raise Http404(_("You have no data at this shop."))
    return customer


@login_required
@require_GET
def privacy_home(request: HttpRequest) -> HttpResponse:
    """List the shops that keep a record of the fan, each with download and erase."""
    records = list(customers_of_account(account=request.user))
    return render(request, "storefront/privacy.html", {"records": records})


@login_required
@require_GET
def privacy_download(request: HttpRequest, shop: str) -> HttpResponse:
    """Everything the shop holds about the fan, as a JSON file."""
    customer = _own_record(request, shop)
    data = customer_data_export(shop=customer.shop, customer=customer)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"kinfolk-{customer.shop.slug}-my-data.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class EraseConfirmForm(AccessibleErrorsMixin, forms.Form):
    """The fan's password again: whoever left the account open cannot erase it on their behalf."""

    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("This password is not correct. Enter the password you log in with."),
                code="wrong_password",
            )
        return password


@login_required
@require_http_methods(["GET", "POST"])
def privacy_erase(request: HttpRequest, shop: str) -> HttpResponse:
    """Say what erasure removes and keeps; with the password, erase and confirm by e-mail."""
    customer = _own_record(request, shop)
    form = EraseConfirmForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            erasure = customer_erase(
                shop=customer.shop, customer=customer, requested_by=Erasure.RequestedBy.FAN
            )
        except KinfolkError as exc:
            form.add_error(None, exc.message)
        else:
            _confirm(request, erasure)
            return see_other("storefront:privacy")
    status = 400 if request.method == "POST" else 200
    context = {"customer": customer, "record_shop": customer.shop, "form": form}
    return render(request, "storefront/privacy_erase.html", context, status=status)


def _confirm(request: HttpRequest, erasure: Erasure) -> None:
    """Tell the fan on the page and by e-mail that the erasure is done (it is committed)."""
    user, shop = request.user, erasure.shop
    try:
        erasure_email_send(user=user, erasure=erasure, language=request.LANGUAGE_CODE)
    except (OSError, smtplib.SMTPException):
        logger.exception("erasure %s: the confirmation e-mail was not sent", erasure.pk)
        messages.warning(
            request,
            _(
                "%(shop)s has erased your personal data. The confirmation e-mail could not be "
                "sent; this message is your confirmation."
            )
            % {"shop": shop.name},
        )
        return
    messages.success(
        request,
        _("%(shop)s has erased your personal data. A confirmation was sent to %(email)s.")
        % {"shop": shop.name, "email": user.email},
    )


def erasure_email_send(*, user: User, erasure: Erasure, language: str) -> None:
    """E-mail the fan's account address that ``erasure`` was carried out, from the shop."""
    shop = erasure.shop
    with translation.override(user.preferred_language or language or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "shop": shop,
            "erasure": erasure,
            "data_url": settings.BASE_URL + reverse("storefront:privacy"),
        }
        subject = render_to_string("storefront/privacy_erased_subject.txt", context)
        text = render_to_string("storefront/privacy_erased_email.txt", context)
        html = render_to_string("storefront/privacy_erased_email.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=formataddr((shop.name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1])),
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    email.send()
