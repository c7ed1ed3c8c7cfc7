from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kinfolk.accounts"
    label = "accounts"
