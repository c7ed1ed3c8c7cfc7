"""Admin building blocks shared by the apps: views of rows that only services may change."""

from __future__ import annotations

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """A model admin that shows rows but cannot add, change or delete them."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInlineMixin(ReadOnlyAdminMixin):
    """An inline that lists related rows read-only, with no blank forms to add one."""

    extra = 0
    can_delete = False
    show_change_link = False
