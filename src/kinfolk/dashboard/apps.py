from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "kinfolk.dashboard"
    label = "dashboard"
