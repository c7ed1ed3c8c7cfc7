from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestpayConfig(AppConfig):
    name = "kinfolk.testpay"
    label = "testpay"
    verbose_name = _("Test card processor")
