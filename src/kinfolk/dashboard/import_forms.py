"""The upload form of the import page: the kind of file, the file, and for a generic CSV which
column holds what. The import service checks the file itself."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from kinfolk.core.errors import KinfolkError
from kinfolk.crm.imports.generic import DATE_FORMAT, REQUIRED_FIELDS
from kinfolk.crm.imports.generic import MAPPABLE_FIELDS as FIELDS
from kinfolk.crm.imports.service import max_upload_bytes
from kinfolk.crm.models import ImportRun

MAPPING_LABELS = {
    "email": _("Column with the e-mail address"),
    "date": _("Column with the order date"),
    "total": _("Column with the amount paid"),
    "order_id": _("Column with the order number"),
    "name": _("Column with the customer's name"),
    "currency": _("Column with the currency"),
    "country": _("Column with the country code"),
    "item": _("Column with the item's name"),
    "sku": _("Column with the SKU"),
    "quantity": _("Column with the quantity"),
    "status": _("Column with the order's status"),
    "refunded": _("Column with the amount refunded"),
}


def _column_field(name: str) -> forms.CharField:
    return forms.CharField(
        label=MAPPING_LABELS[name],
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"list": "import-columns", "autocomplete": "off"}),
    )


class ImportForm(forms.Form):
    """A file to import and, for a generic CSV, its column mapping."""

    format = forms.ChoiceField(
        label=_("Kind of file"),
        choices=ImportRun.Format.choices,
        initial=ImportRun.Format.SHOPIFY_ORDERS,
    )
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )
    date_format = forms.CharField(
        label=_("Layout of the dates"),
        required=False,
        max_length=50,
        help_text=_("For example %d/%m/%Y %H:%M. Leave empty for dates such as 2024-03-05 14:22."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "A CSV file of up to %(limit)s, as the other system exported it."
        ) % {"limit": filesizeformat(max_upload_bytes())}
        for name in FIELDS:
            self.fields[f"map_{name}"] = _column_field(name)

    @property
    def mapping_fields(self) -> list[tuple]:
        """Return (bound field, required for a generic CSV) for each column of the mapping."""
        return [(self[f"map_{name}"], name in REQUIRED_FIELDS) for name in FIELDS]

    def clean_date_format(self) -> str:
        value = self.cleaned_data["date_format"].strip()
        if value and "%" not in value:
            raise ValidationError(
                _("Write the layout with codes such as %d (day), %m (month), %Y (year), %H:%M."),
                code="no_codes",
            )
        return value

    def clean(self):
        data = super().clean()
        if data.get("format") == ImportRun.Format.GENERIC:
            for name in REQUIRED_FIELDS:
                if not (data.get(f"map_{name}") or "").strip():
                    self.add_error(f"map_{name}", _("Name the column of the file that holds this."))
        return data

    def mapping(self) -> dict[str, str]:
        """Return the mapping as the import service takes it (fields and the date layout)."""
        mapping = {
            name: self.cleaned_data[f"map_{name}"].strip()
            for name in FIELDS
            if self.cleaned_data.get(f"map_{name}", "").strip()
        }
        if self.cleaned_data.get("date_format"):
            mapping[DATE_FORMAT] = self.cleaned_data["date_format"]
        return mapping

    def add_import_error(self, exc: KinfolkError) -> None:
        """Put the service's errors next to the fields they concern (mapping fields included)."""
        errors = exc.errors or {exc.field: exc.message}
        for field, message in errors.items():
            if field == DATE_FORMAT:
                name = "date_format"
            elif field in FIELDS:
                name = f"map_{field}"
            else:
                name = field
            self.add_error(name if name in self.fields else None, str(message))
