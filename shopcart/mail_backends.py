"""Email backends. Placeholder until the outbox lands: plain Django file backend."""

from django.core.mail.backends.filebased import EmailBackend


class EmlFileBackend(EmailBackend):
    pass
