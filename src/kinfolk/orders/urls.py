from django.urls import path

from kinfolk.orders import views

app_name = "orders"
urlpatterns = [
    path("payments/<slug:provider>/callback/", views.payment_callback, name="payment-callback"),
]
