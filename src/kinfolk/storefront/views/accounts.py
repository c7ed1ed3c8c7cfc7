"""The fan's account: sign up, confirm the address, log in and out, reset a password, and the
account page with every order across shops."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kinfolk.core.errors import InvalidInput, KinfolkError, NotFound
from kinfolk.orders.selectors import orders_for_account
from kinfolk.referrals.services import first_touch_from_request, referral_signup_credit
from kinfolk.releases.selectors import library_for_account
from kinfolk.shops.models import Shop
from kinfolk.shops.selectors import shop_get_open
from kinfolk.storefront.forms import LoginForm, NewPasswordForm, ResetPasswordForm, SignupForm
from kinfolk.storefront.services import fan_confirm, fan_signup
from kinfolk.storefront.views.shop_request import see_other

logger = logging.getLogger(__name__)

# The service's field names → the form's.
_SIGNUP_FIELDS = {"email": "email", "name": "name", "password": "password1"}


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def _shop_from(slug: str, next_url: str) -> Shop | None:
    """Return the open shop a sign-up started from: named outright, or the shop ``next`` is in."""
    if not slug and next_url:
        try:
            match = resolve(next_url.split("?", 1)[0])
        except Resolver404:
            match = None
        if match is not None and match.namespace == "storefront":
            slug = str(match.kwargs.get("shop", ""))
    if not slug:
        return None
    try:
        return shop_get_open(slug=slug[:50])
    except NotFound:
        return None


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account (inactive until the e-mailed link is followed)."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    if request.method == "POST":
        form = SignupForm(request.POST)
    else:
        form = SignupForm(
            initial={
                "shop": request.GET.get("shop", "")[:50],
                "next": _safe_next(request, request.GET.get("next", "")),
            }
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        shop = _shop_from(data["shop"], _safe_next(request, data["next"]))
        try:
            fan_signup(
                email=data["email"],
                password=data["password1"],
                name=data["name"],
                language=request.LANGUAGE_CODE,
                confirm_url_for=lambda token: (
                    settings.BASE_URL + reverse("accounts:confirm", args=[token])
                ),
                shop=shop,
            )
        except InvalidInput as exc:
            for field, message in (exc.errors or {None: exc.message}).items():
                form.add_error(_SIGNUP_FIELDS.get(field), message)
        else:
            request.session["signup_email"] = data["email"]
            return see_other("accounts:signup-done")
    status = 400 if request.method == "POST" else 200
    return render(request, "storefront/account/signup.html", {"form": form}, status=status)


@require_GET
def signup_done(request: HttpRequest) -> HttpResponse:
    """Ask the fan to open the link that was e-mailed to them."""
    email = request.session.get("signup_email", "")
    return render(request, "storefront/account/signup_done.html", {"email": email})


@require_GET
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Activate the account named by the link, log the fan in and take them on."""
    try:
        confirmed = fan_confirm(token=token[:2000])
    except InvalidInput as exc:
        context = {"message": exc.message, "already": exc.code == "already_confirmed"}
        return render(request, "storefront/account/confirm_failed.html", context, status=400)
    login(request, confirmed.user, backend=settings.AUTHENTICATION_BACKENDS[0])
    if confirmed.shop is not None:
        _credit_signup(request, confirmed.user, confirmed.shop)
    request.session.pop("signup_email", None)
    messages.success(request, _("Your address is confirmed. Welcome to Kinfolk!"))
    if confirmed.shop is not None:
        return redirect("storefront:shop", confirmed.shop.slug)
    return redirect("accounts:home")


def _credit_signup(request: HttpRequest, user, shop: Shop) -> None:
    """Credit the sign-up to the fan whose share link brought the visitor to ``shop``, the shop
    the sign-up started from (its first-touch cookie); other shops' cookies are left unread."""
    touch = first_touch_from_request(request, shop=shop)
    if touch is None:
        return
    try:
        referral_signup_credit(shop=shop, account=user, touch=touch)
    except KinfolkError:
        # The account is confirmed either way; a credit refused is no reason to fail here.
        logger.warning("sign-up of account %s not credited", user.pk, exc_info=True)


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "storefront/account/login.html"
    redirect_authenticated_user = True


@login_required
@require_GET
def account_home(request: HttpRequest) -> HttpResponse:
    """List the fan's orders across every shop, newest first, and their library of releases."""
    orders = list(
        orders_for_account(account=request.user).prefetch_related("edition_copies__edition")
    )
    for order in orders:
        order.item_count = sum(line.quantity for line in order.lines.all())
    library = library_for_account(account=request.user)
    return render(request, "storefront/account/home.html", {"orders": orders, "library": library})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetPasswordForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    extra_email_context = {"base_url": settings.BASE_URL}
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = NewPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
