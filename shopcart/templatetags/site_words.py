"""allauth's headings in the store's words: ``{{ heading|site_words }}``.

allauth titles its pages in its own voice ("Bad Token", "Verify Your Email Address"). Its h1
element (``templates/allauth/elements/h1.html``) and the page title
(``templates/allauth/layouts/base.html``) pass their text through this map; text that is not in
it (the store's own templates' headings) is shown as it is. tests/accounts/test_site_words.py
checks that every heading allauth's templates can show is here.
"""

from django import template
from django.utils.html import strip_spaces_between_tags

register = template.Library()

ALLAUTH_HEADINGS = {
    "Account Connections": "Accounts you sign in with",
    "Account Inactive": "This account is switched off",
    "Activate Authenticator App": "Set up your authenticator app",
    "Add Security Key": "Add a security key",
    "Authenticator App": "Your authenticator app",
    "Authorize": "Allow access",
    "Bad Token": "This link has already been used",
    "Change Password": "Choose a new password",
    "Change Phone": "Change your phone number",
    "Confirm Access": "Confirm it is you",
    "Confirm Device": "Confirm the device",
    "Confirm Email Address": "Confirm your email address",
    "Create Passkey": "Create a passkey",
    "Deactivate Authenticator App": "Turn off your authenticator app",
    "Device Authorized": "The device may sign in",
    "Device Denied": "The device may not sign in",
    "Edit Security Key": "Rename the security key",
    "Email Address": "Your email address",
    "Email Addresses": "Your email addresses",
    "Email Verification": "Confirm your email address",
    "Enter Device Code": "Enter the device's code",
    "Error": "Something went wrong",
    "Login Cancelled": "Sign-in cancelled",
    "Passkey Sign Up": "Create an account with a passkey",
    "Password Reset": "Reset your password",
    "Phone Verification": "Confirm your phone number",
    "Recovery Codes": "Your recovery codes",
    "Remove Security Key": "Remove the security key",
    "Security Keys": "Your security keys",
    "Send me a sign-in code": "Email me a sign-in code",
    "Sessions": "Where you are signed in",
    "Set Password": "Choose a password",
    "Sign In": "Sign in",
    "Sign Out": "Sign out",
    "Sign Up": "Create an account",
    "Sign Up Closed": "New accounts are closed",
    "Signup": "Create an account",
    "Third-Party Login Failure": "Signing in with that account did not work",
    "Trust this Browser?": "Remember this browser?",
    "Two-Factor Authentication": "Your sign-in code",
    "Verify Your Email Address": "Check your email",
}


@register.filter(is_safe=True)
def site_words(text: str) -> str:
    """``text`` (a rendered heading) in the store's words, or as it is."""
    text = strip_spaces_between_tags(str(text)).strip()
    return ALLAUTH_HEADINGS.get(" ".join(text.split()), text)
