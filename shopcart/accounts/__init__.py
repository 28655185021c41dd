"""How django-allauth fits the store (``adapters``): above the apps, imported by none of them."""
