"""``manage.py register_device NAME``: register a cart and print its key, once."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from devices.models import Device
from devices.services import device_register

ERROR_NAME_TAKEN = "A device named “{name}” already exists. Choose another name."
ERROR_NAME_INVALID = "The device's name: {errors}"
MESSAGE_REGISTERED = "Registered “{name}”. Its key:"
MESSAGE_WHERE_TO_PUT_IT = (
    "Put this key into the cart firmware's provisioning (its device key setting). "
    "It cannot be shown again; if it is lost, rotate the key in the admin."
)


class Command(BaseCommand):
    help = "Register a cart device and print its key (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The device's name, for example “Cart 12”.")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        # As the admin's form takes it: without surrounding spaces, and checked by the field.
        name = name.strip()
        try:
            Device._meta.get_field("name").clean(name, None)
        except ValidationError as exc:
            raise CommandError(ERROR_NAME_INVALID.format(errors=" ".join(exc.messages))) from None
        if Device.objects.filter(name=name).exists():
            raise CommandError(ERROR_NAME_TAKEN.format(name=name))
        try:
            with transaction.atomic():
                device, raw_key = device_register(name=name)
        except IntegrityError:  # registered by someone else in the meantime
            raise CommandError(ERROR_NAME_TAKEN.format(name=name)) from None
        self.stdout.write(MESSAGE_REGISTERED.format(name=device.name))
        self.stdout.write(raw_key)
        self.stdout.write(MESSAGE_WHERE_TO_PUT_IT)
