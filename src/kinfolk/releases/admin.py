"""The operators' view of releases: read-mostly, the maker's pages live in the dashboard."""

from django.contrib import admin

from kinfolk.releases.models import Download, EmailGate, Grant, Release, ReleaseFile


class ReleaseFileInline(admin.TabularInline):
    model = ReleaseFile
    extra = 0
    fields = ("role", "name", "content_type", "size", "position")
    readonly_fields = ("content_type", "size")


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("product", "shop", "pricing", "email_gate", "download_limit", "link_hours")
    list_filter = ("pricing", "email_gate")
    search_fields = ("product__name", "shop__slug")
    raw_id_fields = ("shop", "product")
    inlines = [ReleaseFileInline]


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("release", "customer", "source", "created_at", "revoked_at")
    list_filter = ("source",)
    raw_id_fields = ("shop", "release", "customer", "account", "order")


@admin.register(Download)
class DownloadAdmin(admin.ModelAdmin):
    list_display = ("release", "file", "customer", "downloaded_at")
    raw_id_fields = ("shop", "release", "file", "grant", "customer")


@admin.register(EmailGate)
class EmailGateAdmin(admin.ModelAdmin):
    list_display = ("email", "release", "requested_at", "confirmed_at", "sent_count")
    search_fields = ("email",)
    raw_id_fields = ("shop", "release", "grant")
    readonly_fields = ("token",)
