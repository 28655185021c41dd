from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Store catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog.staff_groups import store_groups_after_migrate

        post_migrate.connect(
            store_groups_after_migrate, sender=self, dispatch_uid="catalog.store_groups"
        )
