"""A tiny OpenID Connect provider for the browser tests: a Django project of its own.

It is not part of smartcart and imports nothing from it. ``tests/browser/conftest.py`` runs it
in a separate process (``manage.py idp_setup`` then ``manage.py runserver``) on a free loopback
port, with its SQLite file and RSA signing key in the temporary directory named by
``LOOPBACK_IDP_DIR``. It is django-oauth-toolkit with OIDC enabled, a login page and a consent
page, and no tests of its own (no ``test_*.py`` here).
"""
