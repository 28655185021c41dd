from django.apps import AppConfig


class CartsConfig(AppConfig):
    name = "carts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from carts import signals

        user_logged_in.connect(signals.cart_merge_on_login, dispatch_uid="carts_merge_on_login")
