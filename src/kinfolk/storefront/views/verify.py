"""The public verification page of certificates of authenticity: ``/verify/`` and its codes.

Anyone may check a code; the answer names the edition, the copy's number, the shop, the day it
was sold and the owner's first name and initial, nothing more. A code that matches no sold copy
(mistyped, made up, or voided when the order was cancelled or refunded) gets one plain answer.
Each check is at most one indexed query, so a burst of look-ups costs little.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from kinfolk.drops.certificates import (
    copy_for_code,
    display_code,
    normalize_code,
    owner_name,
    public_name,
)


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=64,
        help_text=_("The 12 letters and digits printed on the certificate, e.g. ABCD-EFGH-JKMN."),
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "ABCD-EFGH-JKMN",
            }
        ),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("A verification code has 12 letters and digits; check what you typed.")
            )
        return code


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """A form to type a code; a well-formed one goes on to its verification page."""
    form = VerifyForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        return HttpResponseRedirect(reverse("storefront:verify", args=[form.cleaned_data["code"]]))
    return render(
        request, "storefront/verify.html", {"form": form}, status=400 if form.is_bound else 200
    )


@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """Say whether ``code`` belongs to a sold copy, and which."""
    normalized = normalize_code(code)
    if normalized is not None and normalized != code:
        # A code typed into the address bar in lower case or with dashes: its one address.
        return HttpResponseRedirect(reverse("storefront:verify", args=[normalized]))
    copy = copy_for_code(normalized) if normalized else None
    context = {"form": VerifyForm(), "typed": code[:64], "copy": None}
    if copy is None:
        return render(request, "storefront/verify_result.html", context, status=404)
    shop = copy.shop
    context.update(
        copy=copy,
        edition=copy.edition,
        product=copy.edition.product,
        certified_shop=shop,
        owner=public_name(owner_name(copy.order)),
        sold_on=copy.sold_at.astimezone(shop.tzinfo).date(),
        code=display_code(copy.verification_code),
    )
    return render(request, "storefront/verify_result.html", context)
