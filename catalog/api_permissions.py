"""Who may use the staff APIs: staff accounts with two factors where the staff two-factor rule
asks for them (``shopcart.core.staff_mfa``), holding the model permission for the method."""

from django.db.models import Model
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from shopcart.core.staff_mfa import staff_api_second_factor_check

# Unlike DRF's DjangoModelPermissions, reading needs the "view" permission too: a staff
# account outside every store group sees nothing.
ACTION_BY_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class IsStaffWithModelPermission(BasePermission):
    """``is_staff``, two factors for managers and superusers (403 saying what is missing), and
    the Django permission ``<app>.<action>_<model>`` for the request method.

    The view names its model in ``permission_model``. An anonymous caller fails here too, and
    DRF turns that into 401 because the request carried no credentials.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        staff_api_second_factor_check(request)
        action = ACTION_BY_METHOD.get(request.method or "")
        if action is None:
            # Fail closed: a method nobody mapped is refused even if a handler appears later.
            raise MethodNotAllowed(request.method or "")
        model: type[Model] = view.permission_model  # type: ignore[attr-defined]
        return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")
