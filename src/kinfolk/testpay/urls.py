from django.urls import path

from kinfolk.testpay import views

app_name = "testpay"

urlpatterns = [
    path("pay/<uuid:charge_id>/", views.pay, name="pay"),
]
