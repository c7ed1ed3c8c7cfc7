"""Forms of the releases pages: they parse what staff type; ``releases.services.setup`` decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kinfolk.catalog.models import Product
from kinfolk.dashboard.forms import PriceField, price_initial
from kinfolk.releases.models import Release, ReleaseFile
from kinfolk.releases.services.setup import MAX_DOWNLOAD_LIMIT, MAX_LINK_HOURS


class ReleaseForm(forms.Form):
    """A release's name, price rule, gate, limits and status, as the setup services take them."""

    name = forms.CharField(label=_("Name"), max_length=200)
    pricing = forms.ChoiceField(
        label=_("Price"),
        choices=Release.Pricing.choices,
        initial=Release.Pricing.FREE,
        widget=forms.RadioSelect,
    )
    price = PriceField(
        label=_("Price or minimum"),
        required=False,
        help_text=_("A fixed price, or the least a fan pays (0 is allowed)."),
    )
    suggested_price = PriceField(
        label=_("Suggested price"),
        required=False,
        help_text=_("Shown in the amount box; a fan may always pay more."),
    )
    email_gate = forms.BooleanField(
        label=_("Ask for an e-mail address before a free download"),
        required=False,
        initial=True,
        help_text=_("The fan confirms the address from a link and gets the download there."),
    )
    download_limit = forms.IntegerField(
        label=_("Downloads per file and purchase"),
        min_value=1,
        max_value=MAX_DOWNLOAD_LIMIT,
        initial=5,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    link_hours = forms.IntegerField(
        label=_("Hours a download link works"),
        min_value=1,
        max_value=MAX_LINK_HOURS,
        initial=24,
        help_text=_("A fan can always get a fresh link from their library."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=Product.Status.choices,
        initial=Product.Status.DRAFT,
        help_text=_("Only active releases show to fans."),
    )

    FIELDS = (
        "name",
        "pricing",
        "price",
        "suggested_price",
        "email_gate",
        "download_limit",
        "link_hours",
        "status",
    )
    # Needed only for some prices: not marked "(optional)".
    CONDITIONAL = ("price", "suggested_price")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("price", "suggested_price"):
            self.fields[name].currency = currency
        self.fields["price"].help_text = _(
            "In %(currency)s: a fixed price, or the least a fan pays (0 is allowed)."
        ) % {"currency": currency}
        for name in self.CONDITIONAL:
            self.fields[name].conditional = True

    @classmethod
    def for_release(cls, release: Release, *, price: int, currency: str, data=None) -> ReleaseForm:
        initial = {
            "name": release.product.name,
            "pricing": release.pricing,
            "price": "" if release.is_free else price_initial(price, currency),
            "suggested_price": (
                ""
                if release.suggested_price is None
                else price_initial(release.suggested_price, currency)
            ),
            "email_gate": release.email_gate,
            "download_limit": release.download_limit,
            "link_hours": release.link_hours,
            "status": release.product.status,
        }
        return cls(data=data, initial=initial, currency=currency)

    def release_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["name"] = data["name"].strip()
        if data["pricing"] != Release.Pricing.PAY_WHAT_YOU_WANT:
            data["suggested_price"] = None
        return {name: data[name] for name in self.FIELDS}


class ReleaseFileForm(forms.Form):
    """A file to add to a release: what fans download, or a preview that plays on its page."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("Audio (MP3, WAV, FLAC, Ogg, M4A, AAC), JPEG, PNG, WebP, PDF or ZIP."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": (
                    "audio/*,image/jpeg,image/png,image/webp,application/pdf,application/zip,"
                    ".mp3,.wav,.flac,.ogg,.m4a,.aac,.zip,.pdf"
                )
            }
        ),
    )
    role = forms.ChoiceField(
        label=_("Fans get it as"),
        choices=ReleaseFile.Role.choices,
        initial=ReleaseFile.Role.DOWNLOAD,
        help_text=_("A preview plays to anyone on the release page."),
    )
