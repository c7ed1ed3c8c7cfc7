"""The fan's account pages, mounted at ``/accounts/``."""

from django.contrib.auth import views as auth_views
from django.urls import path

from kinfolk.storefront.views import accounts

app_name = "accounts"
urlpatterns = [
    path("", accounts.account_home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("signup/sent/", accounts.signup_done, name="signup-done"),
    path("confirm/<str:token>/", accounts.confirm, name="confirm"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        accounts.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        accounts.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
