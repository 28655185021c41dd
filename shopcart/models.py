"""The email outbox: every email the store sends is a row here first (``shopcart.core.mail``)."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class OutboundEmailQuerySet(models.QuerySet["OutboundEmail"]):
    def claimable(self, now: datetime | None = None) -> "OutboundEmailQuerySet":
        """Not sent yet, and nobody is sending it right now (or their claim ran out)."""
        now = now or timezone.now()
        return self.filter(sent_at__isnull=True).filter(
            models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now)
        )


class OutboundEmail(models.Model):
    """One rendered email, stored with the transaction that caused it and sent after commit.

    ``inline_images`` holds the images the HTML refers to as ``cid:...``:
    ``[{"cid": ..., "mimetype": "image/png", "base64": ...}]``.
    """

    kind = models.CharField(max_length=60, db_index=True)
    recipient = models.EmailField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The row is the store's record that an email went out; it outlives the account.
        on_delete=models.SET_NULL,
        related_name="outbound_emails",
        null=True,
        blank=True,
    )
    from_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=255)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    inline_images = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(
        max_length=200, blank=True, help_text="Error class and code only: never an address."
    )

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "outbound email"

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk}"

    @property
    def status(self) -> str:
        """One of queued, sending (a worker holds the claim), retrying (failed before), sent."""
        if self.sent_at is not None:
            return "sent"
        if self.claimed_until is not None and self.claimed_until > timezone.now():
            return "sending"
        return "retrying" if self.attempts else "queued"
