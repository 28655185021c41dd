"""EmlFileBackend: the embedded mode's emails, one .eml file each under EMAIL_FILE_PATH."""

import email
import email.policy
import re

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from shopcart.core.mail import email_attach_inline_image
from shopcart.core.mail_backends import EmlFileBackend
from shopcart.core.qr import qr_png

NAME = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{8}\.eml$")


def a_message(subject: str = "Your cart pass") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject, "Text part", to=["alice@example.com"])
    cid = email_attach_inline_image(message, data=qr_png("HELLO"), name="cart-pass")
    message.attach_alternative(f'<p>HTML part</p><img src="cid:{cid}">', "text/html")
    return message


@pytest.fixture
def mail_folder(tmp_path, settings):
    folder = tmp_path / "var" / "mail"  # does not exist yet: the backend creates it
    settings.EMAIL_FILE_PATH = str(folder)
    return folder


def test_each_message_becomes_its_own_eml_file(mail_folder):
    backend = EmlFileBackend()

    sent = backend.send_messages([a_message("One"), a_message("Two")])
    sent += backend.send_messages([a_message("Three")])

    files = sorted(mail_folder.iterdir())
    assert sent == 3
    assert len(files) == 3
    assert all(NAME.match(path.name) for path in files)
    subjects = {email.message_from_bytes(path.read_bytes())["Subject"] for path in files}
    assert subjects == {"One", "Two", "Three"}


def test_eml_file_is_a_valid_message_with_the_inline_png(mail_folder):
    EmlFileBackend().send_messages([a_message()])

    [path] = mail_folder.iterdir()
    raw = path.read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # RFC 5322 line ends
    assert parsed["To"] == "alice@example.com"
    assert parsed["Subject"] == "Your cart pass"
    assert parsed["Date"] and parsed["Message-ID"]
    assert parsed.get_content_type() == "multipart/related"
    html_part = parsed.get_body(preferencelist=("html",))
    text_part = parsed.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    html, text = html_part.get_content(), text_part.get_content()
    assert "Text part" in text
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert f"cid:{image['Content-ID'].strip('<>')}" in html
    assert image.get_content().startswith(b"\x89PNG\r\n\x1a\n")


def test_existing_files_are_never_overwritten(mail_folder, monkeypatch):
    mail_folder.mkdir(parents=True)
    taken = mail_folder / "20250101-000000-000000-00000000.eml"
    taken.write_bytes(b"kept")
    names = iter([taken.name, "20250101-000000-000000-11111111.eml"])
    monkeypatch.setattr(EmlFileBackend, "_name", staticmethod(lambda: next(names)))

    EmlFileBackend().send_messages([a_message()])

    assert taken.read_bytes() == b"kept"
    assert (mail_folder / "20250101-000000-000000-11111111.eml").is_file()


def test_message_without_recipients_writes_nothing(mail_folder):
    message = a_message()
    message.to = []

    assert EmlFileBackend().send_messages([message]) == 0
    assert not mail_folder.exists() or not any(mail_folder.iterdir())


def test_unwritable_folder_raises_unless_fail_silently(tmp_path, settings):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.EMAIL_FILE_PATH = str(blocker / "mail")

    with pytest.raises(OSError):
        EmlFileBackend().send_messages([a_message()])
    assert EmlFileBackend(fail_silently=True).send_messages([a_message()]) == 0


def test_django_loads_it_by_dotted_path(mail_folder):
    connection = get_connection("shopcart.core.mail_backends.EmlFileBackend")

    assert connection.send_messages([a_message()]) == 1
    assert len(list(mail_folder.iterdir())) == 1
