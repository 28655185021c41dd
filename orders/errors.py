"""The error every order service raises for the shopper or staff to read."""


class OrderError(ValueError):
    """Refused: ``str(error)`` is a message for people, ``code`` a stable word for programs."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code
