from django.apps import AppConfig


class ShopcartConfig(AppConfig):
    name = "shopcart"
    verbose_name = "Outgoing email"
    default_auto_field = "django.db.models.BigAutoField"
