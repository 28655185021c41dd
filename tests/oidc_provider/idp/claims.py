"""What the loopback provider says about its users in ID tokens and at the userinfo endpoint."""

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class ClaimsValidator(OAuth2Validator):
    """Standard OIDC claims from the Django user; each is released only with its scope.

    The base class maps claims to scopes (``email`` and ``email_verified`` need ``email``, the
    names need ``profile``). Every address here is taken as verified: the provider's own users
    are made by its setup command, not signed up.
    """

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.get_username(),
        }
