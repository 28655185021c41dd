"""The error every order service raises for the shopper or staff to read."""

from shopcart.core.refusals import Refused


class OrderError(Refused):
    """Refused: ``str(error)`` is a message for people, ``code`` a stable word for programs."""


class OrderPaidMeanwhile(OrderError):
    """The order was paid at the gateway while the shopper asked for something else."""

    code = "paid"
