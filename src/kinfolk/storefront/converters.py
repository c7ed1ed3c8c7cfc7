"""Path converters of the fan-facing URLs, registered on import (``kinfolk.storefront.urls``)."""

from django.urls import register_converter


class RowIdConverter:
    """A row id: digits that fit a 64-bit column (longer ones are "not found", not an error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowIdConverter, "rowid")
