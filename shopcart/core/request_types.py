"""Request types the apps' views share, for the type checker only."""

from django.contrib.auth.models import User
from django.http import HttpRequest


class ShopperRequest(HttpRequest):
    """A request that ``login_required`` let through: its user is signed in."""

    user: User
