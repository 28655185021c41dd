"""Email backends. ``EmlFileBackend`` is the embedded mode's: one ``.eml`` file per message."""

import io
import secrets
from collections.abc import Sequence
from email.generator import BytesGenerator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

# Names never repeat in practice; the loop only guards against a clash with a file put there
# by hand, because existing files are never overwritten.
NAME_ATTEMPTS = 5


class EmlFileBackend(BaseEmailBackend):
    """Writes each message as its own RFC 5322 file under ``EMAIL_FILE_PATH`` (``var/mail/``).

    Files are named by UTC time and a random suffix (``20250101-120000-123456-1a2b3c4d.eml``),
    so they sort by time; any mail program opens them, with HTML and inline images.
    """

    def __init__(self, *, file_path: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for message in email_messages:
                if message.recipients():
                    self.write_message(message)
                    sent += 1
        except OSError:
            if not self.fail_silently:
                raise
        return sent

    def write_message(self, message: EmailMessage) -> Path:
        """Write ``message`` to a new file and return its path."""
        buffer = io.BytesIO()
        # CRLF line ends, as RFC 5322 has them; no ">From" mangling (this is not an mbox).
        BytesGenerator(buffer, mangle_from_=False).flatten(message.message(), linesep="\r\n")
        data = buffer.getvalue()
        for _ in range(NAME_ATTEMPTS):
            path = self.folder / self._name()
            try:
                with path.open("xb") as file:
                    file.write(data)
            except FileExistsError:
                continue
            return path
        raise FileExistsError(f"Could not find a free file name in {self.folder}")

    @staticmethod
    def _name() -> str:
        return f"{timezone.now():%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}.eml"
