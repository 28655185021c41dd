"""Forms of the orders pages: the exit check's code box and the admin's refund confirmation."""

from decimal import Decimal

from django import forms

from shopcart.core.money import money_format

ERROR_CODE_BLANK = "Scan or type the exit code."
ERROR_REFUND_TOO_MUCH = "At most {amount} can be refunded."
ERROR_REFUND_NOT_POSITIVE = "Enter an amount of at least 0.01."

# Far longer than any exit code (about 45 characters): room for stray text, none for abuse.
CODE_MAX_LENGTH = 200
CENT = Decimal("0.01")


class ExitCheckForm(forms.Form):
    code = forms.CharField(
        label="Exit code",
        max_length=CODE_MAX_LENGTH,
        error_messages={"required": ERROR_CODE_BLANK},
    )


class RefundForm(forms.Form):
    """How much of one order to give back, and why. ``refundable`` caps the amount."""

    amount = forms.DecimalField(max_digits=10, decimal_places=2)
    reason = forms.CharField(max_length=255, required=False)

    def __init__(self, *args: object, refundable: Decimal, currency: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.refundable = refundable
        self.currency = currency
        self.fields["amount"].initial = refundable

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount < CENT:
            raise forms.ValidationError(ERROR_REFUND_NOT_POSITIVE)
        if amount > self.refundable:
            limit = money_format(self.refundable, self.currency)
            raise forms.ValidationError(ERROR_REFUND_TOO_MUCH.format(amount=limit))
        return amount
