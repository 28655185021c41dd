"""What the run adds to the store besides ``benchmarks.scan_load.store``'s shoppers and
devices: their signed-in browser sessions."""


def sessions_create(user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """A signed-in browser session per shopper (cookie name, value): signing in is not what is
    measured, and it would spend a password hash per shopper."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User

    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = {}
    for user in User.objects.filter(pk__in=user_ids):
        session = session_store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions[user.pk] = (settings.SESSION_COOKIE_NAME, session.session_key or "")
    return sessions
