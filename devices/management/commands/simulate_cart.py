"""``manage.py simulate_cart``: a cart on the command line, speaking protocol v1 over HTTP.

    simulate_cart --key scd_… --pass "SC1:…" 4006381333931 036000291452:UPCA
    simulate_cart --images photos/ --mode remove
    simulate_cart --demo      # against make run: pairs as alice and fills her cart
    simulate_cart --demo --images photos/   # pairs as alice, then sends these photos
    simulate_cart --enrol qr.png --pass "SC1:…" 4006381333931   # provisioned by QR first
    simulate_cart --key scd_… --firmware-version 1.1.0 --update   # follow an update offer

The protocol logic (retries, request bodies, the display) lives in ``devices.simulator``.
"""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices import simulator, simulator_enrol, simulator_update
from devices.services.scans import MODES

# --demo registers its own device and pairs it with alice's pass: these would be ignored.
DEMO_CHOOSES = {"key": "--key", "pass_text": "--pass", "enrol": "--enrol", "update": "--update"}
ERROR_DEMO_CHOOSES = (
    "--demo uses the demo cart and alice's pass: leave out {options}, or leave out --demo."
)


class Command(BaseCommand):
    help = "Act as a cart device: pair with a cart pass and send scans to a running server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("codes", nargs="*", help="Barcodes to scan: CODE or CODE:SYMBOLOGY.")
        parser.add_argument(
            "--server", help="The store's address (default: SITE_URL, where make run serves)."
        )
        parser.add_argument("--key", help=f"The device key (default: ${simulator.KEY_ENV}).")
        parser.add_argument("--pass", dest="pass_text", help="A cart pass's text: pair first.")
        parser.add_argument("--mode", choices=MODES, default="add")
        parser.add_argument("--qty", type=int, default=1)
        parser.add_argument(
            "--images",
            type=Path,
            help="Send each photo in this folder (.jpg, .png, .webp, ...) as the cart would: "
            "fitted into its frame and re-encoded as its JPEG.",
        )
        parser.add_argument("--pause", type=float, default=None, help="Seconds between scans.")
        parser.add_argument(
            "--enrol",
            type=Path,
            metavar="QR_IMAGE",
            help="A photo or screenshot of a provisioning QR (admin: Devices, Add a cart): "
            "enrol with its code first, and run with the key the server gives.",
        )
        parser.add_argument(
            "--firmware-version",
            default="simulator",
            help="The version the heartbeat reports; a release's (1.1.0) gets update offers.",
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="Send a heartbeat and follow its update offer: download the release and check "
            "its SHA-256 and signature (FIRMWARE_RELEASE_PUBLIC_KEY, or --release-key); "
            "nothing is installed.",
        )
        parser.add_argument("--release-key", help="The release public key (32 bytes, base64).")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Use the local demo data: pair the 'Demo cart' with alice and scan demo "
            "products, or the codes and --images given.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        options["server_given"] = bool(options["server"])
        options["server"] = options["server"] or simulator.default_server()
        try:
            if options["demo"]:
                given = [flag for name, flag in DEMO_CHOOSES.items() if options[name]]
                if given:
                    raise CommandError(ERROR_DEMO_CHOOSES.format(options=", ".join(given)))
                self._demo(options)
            else:
                self._run(options)
        except simulator.SimulatorError as exc:
            raise CommandError(str(exc)) from exc

    def _cart(self, server: str, key: str, version: str = "simulator") -> simulator.Cart:
        return simulator.Cart(
            server=server, key=key, out=self.stdout.write, firmware_version=version
        )

    def _enrol(self, options: dict[str, Any]) -> str:
        path: Path = options["enrol"]
        try:
            image = path.read_bytes()
        except OSError as exc:
            raise simulator.SimulatorError(f"{path}: {exc.strerror}") from exc
        payload = simulator_enrol.provisioning_read(image, name=path.name)
        self.stdout.write(
            f"Provisioning QR read: Wi-Fi “{payload.wifi_ssid}”, {payload.server_url}"
        )
        explicit = options["server_given"]
        enrolment = simulator_enrol.enrol(payload, server=options["server"] if explicit else None)
        options["server"] = enrolment.server
        self.stdout.write(f"Enrolled as “{enrolment.device_name}”. Its key, shown once:")
        self.stdout.write(enrolment.key)
        return enrolment.key

    def _run(self, options: dict[str, Any]) -> None:
        key = self._enrol(options) if options["enrol"] else None
        key = key or options["key"] or os.environ.get(simulator.KEY_ENV)
        if not key:
            raise simulator.SimulatorError(simulator.ERROR_NO_KEY)
        requests, photos = self._given(options)
        if options["pass_text"]:
            requests.insert(0, simulator.pass_request(text=options["pass_text"]))
        cart = self._cart(options["server"], key, options["firmware_version"])
        if options["update"]:
            public_key = options["release_key"] or settings.FIRMWARE_RELEASE_PUBLIC_KEY
            simulator_update.update_follow(cart, public_key=public_key)
        # Without codes or photos: enrolled or updated, nothing to scan this time.
        self._scan(cart, requests, photos, options, pause=options["pause"] or 0.0)

    @staticmethod
    def _given(options: dict[str, Any]) -> tuple[list[simulator.ScanRequest], list[Path]]:
        """The scans of the codes given (in ``--mode``, ``--qty`` each) and the photos of
        ``--images``; raises ``SimulatorError`` for a code or a folder that cannot be sent."""
        requests = []
        for argument in options["codes"]:
            code, symbology = simulator.code_parse(argument)
            requests.append(
                simulator.code_request(
                    code=code, symbology=symbology, mode=options["mode"], qty=options["qty"]
                )
            )
        photos = simulator.image_paths(options["images"]) if options["images"] else []
        return requests, photos

    def _scan(
        self,
        cart: simulator.Cart,
        requests: list[simulator.ScanRequest],
        photos: list[Path],
        options: dict[str, Any],
        *,
        pause: float,
    ) -> None:
        cart.scan_all(requests, pause=pause)
        if photos:
            tally = cart.scan_photos(photos, mode=options["mode"], qty=options["qty"], pause=pause)
            self.stdout.write(tally.summary())

    def _demo(self, options: dict[str, Any]) -> None:
        requests, photos = self._given(options)
        self.stdout.write("Preparing the demo from the local database…")
        setup = simulator.demo_prepare()
        for note in setup.notes:
            self.stdout.write(note)
        cart = self._cart(options["server"], setup.key)
        self.stdout.write(f"Checking the server at {options['server']}…")
        cart.heartbeat()
        self.stdout.write("Pairing with alice's cart pass…")
        cart.scan(simulator.pass_request(text=setup.pass_text))
        pause = simulator.DEMO_PAUSE_SECONDS if options["pause"] is None else options["pause"]
        if not requests and not photos:
            self.stdout.write(f"Scanning {len(setup.codes)} products, {pause:g} s apart…")
            requests = [simulator.code_request(code=c, symbology=s) for c, s in setup.codes]
        self._scan(cart, requests, photos, options, pause=pause)
        self.stdout.write(self.style.SUCCESS("Done: alice's cart at /cart/ shows them."))
