"""Files leaving the platform: signed download links, the library's "Download" button, and the
byte-range streaming shared with the release page's preview player.

A file is never read into memory: the response is a FileResponse over the storage's file, so
gunicorn hands a file-system file to the kernel (sendfile) and other storages stream it in
blocks. One byte range is honoured (``Range: bytes=a-b``; 206 with Content-Range, 416 when it
lies outside the file); several ranges get the whole file, which HTTP allows.

Counting: a download counts against the grant's allowance on a full GET and on a range that
starts at byte 0 (a player or download manager starting over). A range starting later is the
rest of a download only when this grant's download of the file was counted within the last hour
(``RESUME_WINDOW``; every link works at least that long): it then streams without counting.
Otherwise it counts like a new download, so a range cannot get round the limit. A HEAD never
counts and sends no body.

Downloads through an open link (a release free to get without a gate) take no allowance; each
visitor's IP address counts once per file and hour in the shop's figures, so reloading a link
cannot inflate them (a repeat still streams). The count is kept in the rate-limit cache
(``RATELIMIT_USE_CACHE``): shared by every worker with Redis, or with a cache every process can
reach; an in-memory cache counts per process.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from kinfolk.core import clock
from kinfolk.core.errors import KinfolkError, NotFound
from kinfolk.core.files import (
    BadRange,
    ByteRange,
    file_response,
    parse_range,
    range_not_satisfiable,
)
from kinfolk.referrals.services import referral_credit
from kinfolk.referrals.web import referral_kwargs
from kinfolk.releases.links import LinkExpired, LinkInvalid, download_token_read
from kinfolk.releases.models import ReleaseFile
from kinfolk.releases.selectors import (
    download_is_resume,
    download_target_get,
    grant_get,
    grant_links,
    library_file_get,
    open_file_get,
)
from kinfolk.releases.services import (
    GrantRevoked,
    LimitReached,
    download_count_anonymous,
    download_take,
    fresh_links_send,
)
from kinfolk.shops.models import Shop
from kinfolk.storefront.views.shop_request import open_shop_or_404, shop_context

# "Send me a fresh link" per grant: a fan who lost the e-mail gets one, nobody gets a stream.
FRESH_LINKS_RATE = "1/m"
FRESH_LINKS_DAILY = "5/d"
TOKEN_MAX = 300
# Downloads through an open link counted per visitor's IP address and file.
OPEN_DOWNLOAD_RATE = "1/h"


def stream_file(
    request: HttpRequest, file: ReleaseFile, *, attachment: bool, byte_range: ByteRange | None
) -> HttpResponse:
    """Return a release file (or its byte range): a download, or a preview for the page's
    player, which the browser may keep for an hour."""
    response = file_response(
        request,
        storage=file.file.storage,
        name=file.file.name,
        size=file.size,
        content_type=file.content_type,
        filename=file.name,
        attachment=attachment,
        byte_range=byte_range,
    )
    response["Cache-Control"] = "private, no-store" if attachment else "private, max-age=3600"
    return response


def problem_page(
    request: HttpRequest, shop: Shop, kind: str, *, status: int, **extra
) -> HttpResponse:
    """Render the clear page for a download that cannot happen (``kind`` picks the words)."""
    context = shop_context(request, shop)
    context.update(kind=kind, **extra)
    return render(request, "storefront/download_problem.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def release_download(request: HttpRequest, shop: str, token: str) -> HttpResponse:
    """Stream the file a signed link names, counting it against the grant's allowance."""
    shop_obj = open_shop_or_404(shop)
    try:
        target = download_token_read(token[:TOKEN_MAX])
    except LinkInvalid:
        return problem_page(request, shop_obj, "invalid", status=404)
    except LinkExpired as exc:
        return _expired(request, shop_obj, exc.grant_id, token)
    try:
        if target.grant_id == 0:
            file, grant = open_file_get(shop=shop_obj, file_id=target.file_id), None
        else:
            grant, file = download_target_get(
                shop=shop_obj, grant_id=target.grant_id, file_id=target.file_id
            )
    except NotFound:
        return problem_page(request, shop_obj, "invalid", status=404)
    try:
        byte_range = parse_range(request.headers.get("Range", ""), file.size)
    except BadRange:
        return range_not_satisfiable(file.size)
    if grant is not None and grant.revoked_at is not None:
        return problem_page(request, shop_obj, "revoked", status=410, grant=grant)
    if request.method != "GET":
        counts = False
    elif grant is None:
        counts = not _open_download_seen(request, file)
    elif byte_range is None or byte_range.start == 0:
        counts = True
    else:
        counts = not download_is_resume(shop=shop_obj, grant=grant, file=file, now=clock.now())
    if grant is None and counts:
        download_count_anonymous(shop=shop_obj, file=file)
    elif grant is not None and counts:
        try:
            taken = download_take(shop=shop_obj, grant=grant, file=file)
        except LimitReached as exc:
            return problem_page(request, shop_obj, "limit", status=403, message=exc.message)
        except GrantRevoked:
            return problem_page(request, shop_obj, "revoked", status=410, grant=grant)
        if taken.first:
            referral_credit(
                shop=shop_obj,
                customer=grant.customer,
                kind="download",
                subject_id=grant.release_id,
                **referral_kwargs(request, shop=shop_obj),
            )
    return stream_file(request, file, attachment=True, byte_range=byte_range)


def _open_download_seen(request: HttpRequest, file: ReleaseFile) -> bool:
    """Note a download of ``file`` through an open link by this visitor's IP address; return
    whether one was noted within the hour already (it is then not counted again)."""
    return is_ratelimited(
        request,
        group=f"releases.open.{file.pk}",
        key="ip",
        rate=OPEN_DOWNLOAD_RATE,
        increment=True,
    )


def _expired(request: HttpRequest, shop: Shop, grant_id: int, token: str) -> HttpResponse:
    grant = None
    if grant_id:
        try:
            grant = grant_get(shop=shop, grant_id=grant_id)
        except NotFound:
            return problem_page(request, shop, "invalid", status=404)
    owner = bool(
        grant
        and request.user.is_authenticated
        and (grant.account_id == request.user.pk or grant.customer.account_id == request.user.pk)
    )
    return problem_page(
        request, shop, "expired", status=410, grant=grant, token=token[:TOKEN_MAX], owner=owner
    )


@require_POST
def release_download_fresh(request: HttpRequest, shop: str, token: str) -> HttpResponse:
    """E-mail fresh links for the grant an expired link names, to the grant's own address."""
    shop_obj = open_shop_or_404(shop)
    try:
        download_token_read(token[:TOKEN_MAX])
    except LinkInvalid:
        return problem_page(request, shop_obj, "invalid", status=404)
    except LinkExpired as exc:
        grant_id = exc.grant_id
    else:
        grant_id = None  # still valid: nothing to refresh
    if not grant_id:
        return problem_page(request, shop_obj, "invalid", status=404)
    try:
        grant = grant_get(shop=shop_obj, grant_id=grant_id)
    except NotFound:
        return problem_page(request, shop_obj, "invalid", status=404)
    if _fresh_limited(request, grant.pk):
        return problem_page(
            request,
            shop_obj,
            "expired",
            status=429,
            grant=grant,
            token=token[:TOKEN_MAX],
            error=_("Fresh links were sent a moment ago. Check your inbox, or try again later."),
        )
    try:
        fresh_links_send(shop=shop_obj, grant=grant)
    except KinfolkError as exc:
        return problem_page(request, shop_obj, "revoked", status=exc.status, message=exc.message)
    return problem_page(request, shop_obj, "sent", status=200, grant=grant)


def _fresh_limited(request: HttpRequest, grant_id: int) -> bool:
    key = f"grant:{grant_id}"
    per_minute = is_ratelimited(
        request,
        group="releases.fresh.minute",
        key=lambda _group, _request: key,
        rate=FRESH_LINKS_RATE,
        increment=True,
    )
    per_day = is_ratelimited(
        request,
        group="releases.fresh.day",
        key=lambda _group, _request: key,
        rate=FRESH_LINKS_DAILY,
        increment=not per_minute,
    )
    return per_minute or per_day


@login_required
@require_http_methods(["GET", "POST"])
def library_download(request: HttpRequest, grant_id: int, file_id: int) -> HttpResponse:
    """Issue a fresh signed link to one file of the fan's own grant and go to it."""
    try:
        grant, file = library_file_get(account=request.user, grant_id=grant_id, file_id=file_id)
    except NotFound:
        raise Http404("No such download.") from None
    if grant.revoked_at is not None:
        return problem_page(request, grant.shop, "revoked", status=410, grant=grant)
    link = grant_links(grant, [file])[0]
    return HttpResponseRedirect(
        reverse("storefront:release-download", args=[grant.shop.slug, link.token])
    )
