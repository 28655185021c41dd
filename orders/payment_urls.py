from django.urls import path

from orders import payment_views

app_name = "payments"

urlpatterns = [
    path("webhooks/stripe/", payment_views.webhook_stripe, name="webhook_stripe"),
    path("webhooks/test/", payment_views.webhook_test, name="webhook_test"),
    path("test/<str:session_id>/", payment_views.test_payment_page, name="test_page"),
]
