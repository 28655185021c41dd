"""What a service raises when it refuses: one base for every app's refusals.

A refusal carries its message for people (``str(error)``), a stable ``code`` for programs and
the HTTP status an API answers it with. The API's exception handler
(``shopcart.core.db_outage.api_exception_handler``) answers any of them as
``{"detail": <message>, "code": <code>}`` with that status, so no API translates refusals by
hand; a caller that must tell one refusal from another catches its subclass, never compares a
message or a code.
"""


class Refused(ValueError):
    code: str = "refused"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def answer(self) -> dict[str, str]:
        """The body an API answers it with (``http_status`` the status)."""
        return {"detail": str(self), "code": self.code}
