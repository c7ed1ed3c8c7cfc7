from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from kinfolk.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_active", "is_staff", "email_confirmed_at", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name", "preferred_language")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "email_confirmed_at")}),
        ("Permissions", {"fields": ("groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
