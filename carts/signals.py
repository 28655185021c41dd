"""The one hook Django offers no other way to: merging the anonymous cart when a shopper signs in.

Connected in ``CartsConfig.ready``.
"""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from carts import web


def cart_merge_on_login(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    web.session_cart_merge(request=request, user=user)
