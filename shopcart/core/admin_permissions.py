"""Admin mixins for rows that only the application writes (staff look, or act through actions)."""

from typing import Any

from django.http import HttpRequest


class NoAddOrDeleteMixin:
    """Rows made and removed by the application; staff change them only through actions."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ViewOnlyMixin(NoAddOrDeleteMixin):
    """Rows staff may only look at."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
