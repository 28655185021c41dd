"""AI shopping tips against a fake chat-completions API on loopback (tests/catalog/fake_llm.py).

Off without configuration (no connection at all), written in the background from catalog
fields only, length-checked, rate-limited, pending until staff approve them, escaped on the
page, surviving every provider failure (a product that keeps failing backs off), and under
staff control in the admin.
"""

import json
import logging
import socket
from io import StringIO

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog import tips
from catalog.admin import (
    MESSAGE_TIPS_APPROVED,
    MESSAGE_TIPS_HIDDEN,
    MESSAGE_TIPS_NOT_PENDING,
    MESSAGE_TIPS_REGENERATE,
    MESSAGE_TIPS_SHOWN,
)
from catalog.management.commands.product_tips_generate import MESSAGE_DISABLED
from catalog.models import TIP_MAX_CHARS, ProductTip, ProductTipFailure
from catalog.tasks import product_tips_generate as product_tips_generate_task
from tests.catalog.fake_llm import FakeLlm
from tests.factories import CategoryFactory, ProductFactory
from tests.settings_probe import settings_refusal

pytestmark = pytest.mark.django_db

API_KEY = "sk-test-do-not-log-me"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the rate counter, the run lock and a provider's pause live there
    yield
    cache.clear()


@pytest.fixture
def fake():
    server = FakeLlm().start()
    yield server
    server.stop()


@pytest.fixture
def configured(settings, fake):
    settings.AI_TIPS_BASE_URL = fake.base_url
    settings.AI_TIPS_MODEL = "tips-model-1"
    settings.AI_TIPS_API_KEY = API_KEY
    settings.AI_TIPS_TIMEOUT = 0.5
    settings.AI_TIPS_RATE_PER_MINUTE = 50
    return fake


@pytest.fixture
def pasta(db):
    return ProductFactory(
        name="Spaghetti, 500 g",
        category=CategoryFactory(name="Pantry", slug="pantry"),
        description="Bronze-die durum wheat pasta.",
    )


def product_page(client, product) -> str:
    response = client.get(reverse("catalog:product_detail", kwargs={"slug": product.slug}))
    assert response.status_code == 200
    return response.text


# --- Off by default ----------------------------------------------------------------------------


def test_without_configuration_nothing_calls_out(pasta, fake, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)

    run = tips.product_tips_generate()

    assert run == tips.TipRun(stopped=tips.STOP_DISABLED)
    assert product_tips_generate_task.delay().get() == 0
    assert fake.requests == []
    assert not ProductTip.objects.exists()


def test_without_configuration_the_product_page_shows_no_tip(client, pasta):
    assert "Tip:" not in product_page(client, pasta)


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_command_refuses_a_limit_that_is_not_a_number_of_products(pasta, limit):
    with pytest.raises(CommandError, match=f"--limit: a whole number of products.*{limit}"):
        call_command("product_tips_generate", "--limit", limit)


def test_command_says_tips_are_off_without_configuration(pasta):
    out = StringIO()
    call_command("product_tips_generate", stdout=out)

    assert MESSAGE_DISABLED in out.getvalue()


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {"AI_TIPS_BASE_URL": "https://llm.example.com/v1"},
            "Set both AI_TIPS_BASE_URL and AI_TIPS_MODEL, or neither.",
        ),
        (
            {"AI_TIPS_BASE_URL": "file:///etc/passwd", "AI_TIPS_MODEL": "m"},
            "AI_TIPS_BASE_URL must be an http:// or https:// URL.",
        ),
        (
            {
                "AI_TIPS_BASE_URL": "https://x.example/v1",
                "AI_TIPS_MODEL": "m",
                "AI_TIPS_TIMEOUT": "0",
            },
            "AI_TIPS_RATE_PER_MINUTE and AI_TIPS_TIMEOUT must be positive.",
        ),
    ],
)
def test_half_a_configuration_refuses_to_start(environment, message):
    assert message in settings_refusal(**environment)


# --- Writing tips --------------------------------------------------------------------------------


def test_tip_is_written_from_catalog_fields_only(configured, pasta):
    run = product_tips_generate_task.delay().get()

    assert run == 1
    tip = ProductTip.objects.get(product=pasta)
    assert (tip.text, tip.status, tip.model) == (configured.tip, "pending", "tips-model-1")
    assert tip.generated_at is not None
    [request] = configured.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    body = request.body
    assert body["model"] == "tips-model-1"
    assert json.loads(body["messages"][1]["content"]) == {
        "name": "Spaghetti, 500 g",
        "category": "Pantry",
        "description": "Bronze-die durum wheat pasta.",
    }
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["properties"]["tip"] == {"type": "string", "maxLength": TIP_MAX_CHARS}
    assert schema["required"] == ["tip"]


def test_inactive_products_get_no_tip(configured, pasta):
    ProductFactory(active=False)

    tips.product_tips_generate()

    assert list(ProductTip.objects.values_list("product", flat=True)) == [pasta.pk]


def test_tip_shows_on_the_product_page_escaped(client, configured, pasta):
    configured.tip = '<script>alert("tip")</script> Serve with <b>sauce</b>.'
    tips.product_tips_generate()
    tips.tips_approve(tip_ids=[ProductTip.objects.get().pk])

    page = product_page(client, pasta)

    assert '<script>alert("tip")</script>' not in page
    assert "<b>sauce</b>" not in page
    assert "&lt;script&gt;alert(&quot;tip&quot;)&lt;/script&gt; Serve with &lt;b&gt;sauce" in page
    assert "Written by AI" in page


def test_the_product_page_never_calls_the_provider(client, configured, pasta):
    product_page(client, pasta)

    assert configured.requests == []


def test_an_unchanged_product_is_not_asked_about_again(configured, pasta):
    tips.product_tips_generate()

    run = tips.product_tips_generate()

    assert run == tips.TipRun()
    assert len(configured.requests) == 1


def test_a_changed_product_gets_a_new_tip(configured, pasta):
    tips.product_tips_generate()
    pasta.description = "Now made with wholewheat."
    pasta.save()
    configured.tip = "Cook it a minute longer than white pasta."

    tips.product_tips_generate()

    assert ProductTip.objects.get(product=pasta).text == "Cook it a minute longer than white pasta."
    assert len(configured.requests) == 2


def test_an_edited_tip_survives_a_changed_product(configured, pasta):
    ProductTip.objects.create(product=pasta, text="Staff wrote this.", status="edited")
    pasta.name = "Spaghetti, 1 kg"
    pasta.save()

    tips.product_tips_generate()

    assert ProductTip.objects.get(product=pasta).text == "Staff wrote this."
    assert configured.requests == []


def test_a_hidden_tip_is_neither_shown_nor_rewritten(client, configured, pasta):
    ProductTip.objects.create(product=pasta, text="Not for shoppers.", status="hidden")

    tips.product_tips_generate()

    assert ProductTip.objects.get(product=pasta).status == "hidden"
    assert configured.requests == []
    assert "Not for shoppers." not in product_page(client, pasta)


def test_an_edit_saved_during_the_call_is_not_overwritten(configured, pasta):
    ProductTip.objects.create(product=pasta, text="Old", status="pending", source_hash="old")
    ProductTip.objects.filter(product=pasta).update(text="Staff's", status="edited")

    stored = tips.tip_store(product=pasta, text="AI's", source=tips.TipSource.of(pasta))

    assert stored is False
    assert ProductTip.objects.get(product=pasta).text == "Staff's"


# --- Pending until staff approve ----------------------------------------------------------


def test_a_new_tip_waits_for_approval_and_is_not_shown(client, configured, pasta):
    tips.product_tips_generate()

    assert ProductTip.objects.get(product=pasta).status == "pending"
    assert configured.tip not in product_page(client, pasta)
    assert tips.product_tip_get(product=pasta) is None


def test_an_approved_tip_is_shown_labelled_as_written_by_ai(client, configured, pasta):
    tips.product_tips_generate()
    tip = ProductTip.objects.get(product=pasta)

    assert tips.tips_approve(tip_ids=[tip.pk]) == 1

    page = product_page(client, pasta)
    assert configured.tip in page and "Written by AI" in page


def test_a_changed_product_gets_a_new_tip_that_waits_for_approval_again(client, configured, pasta):
    tips.product_tips_generate()
    tips.tips_approve(tip_ids=list(ProductTip.objects.values_list("pk", flat=True)))
    pasta.description = "Now made with wholewheat."
    pasta.save()
    configured.tip = "Cook it a minute longer than white pasta."

    tips.product_tips_generate()

    tip = ProductTip.objects.get(product=pasta)
    assert (tip.text, tip.status) == ("Cook it a minute longer than white pasta.", "pending")
    assert "Tip:" not in product_page(client, pasta)


def test_staff_approve_pending_tips_in_bulk(staff_client, client, pasta):
    other = ProductFactory(name="Penne")
    pending = [
        ProductTip.objects.create(product=pasta, text="Salt the water well."),
        ProductTip.objects.create(product=other, text="Good with pesto."),
    ]
    hidden = ProductTip.objects.create(product=ProductFactory(), text="No.", status="hidden")

    response = staff_client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [t.pk for t in [*pending, hidden]]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        MESSAGE_TIPS_APPROVED.format(count=2),
        MESSAGE_TIPS_NOT_PENDING.format(count=1),
    ]
    statuses = dict(ProductTip.objects.values_list("text", "status"))
    assert statuses == {
        "Salt the water well.": "approved",
        "Good with pesto.": "approved",
        "No.": "hidden",
    }
    assert "Salt the water well." in product_page(client, pasta)
    assert "Good with pesto." in product_page(client, other)


def test_the_changelist_filters_tips_waiting_for_approval(staff_client, pasta):
    ProductTip.objects.create(product=pasta, text="Waiting.")
    ProductTip.objects.create(product=ProductFactory(), text="Approved.", status="approved")

    page = staff_client.get(CHANGELIST, {"status__exact": "pending"}).text

    assert "Waiting." in page and "Approved." not in page


# --- A product that keeps failing backs off ---------------------------------------------------


@pytest.fixture
def shelf(configured, pasta):
    """Pasta, whose requests always get an over-long answer, and two products that work."""
    configured.modes_by_name[pasta.name] = "too_long"
    return [pasta, ProductFactory(name="Penne"), ProductFactory(name="Rice")]


def asked(fake) -> list[str]:
    return [json.loads(r.body["messages"][1]["content"])["name"] for r in fake.requests]


def test_a_failing_product_backs_off_and_the_others_get_their_tips(configured, shelf):
    with time_machine.travel("2026-03-02 12:00 +00:00", tick=False):
        runs = [tips.product_tips_generate(limit=1) for _ in range(3)]

    assert runs == [tips.TipRun(failed=1), tips.TipRun(written=1), tips.TipRun(written=1)]
    assert asked(configured) == ["Spaghetti, 500 g", "Penne", "Rice"]
    failure = ProductTipFailure.objects.get(product=shelf[0])
    assert (failure.failures, failure.last_error) == (1, tips.KIND_TOO_LONG)
    assert failure.retry_at - failure.failed_at == tips.BACKOFF_FIRST


def test_a_product_backing_off_is_retried_later_after_products_never_tried(configured, shelf):
    with time_machine.travel("2026-03-02 12:00 +00:00", tick=False):
        tips.product_tips_generate(limit=1)  # pasta fails
    ProductFactory(name="Couscous")
    later = "2026-03-02 12:16 +00:00"  # past the first back-off

    with time_machine.travel(later, tick=False):
        tips.product_tips_generate(limit=3)  # the three that never failed first
        tips.product_tips_generate(limit=1)  # then pasta again, failing again

    assert asked(configured) == [
        "Spaghetti, 500 g",
        "Penne",
        "Rice",
        "Couscous",
        "Spaghetti, 500 g",
    ]
    failure = ProductTipFailure.objects.get(product=shelf[0])
    assert failure.failures == 2
    assert failure.retry_at - failure.failed_at == 2 * tips.BACKOFF_FIRST


def test_the_back_off_doubles_up_to_its_limit(pasta):
    for _ in range(12):
        failure = tips.tip_failure_record(product=pasta, kind=tips.KIND_TIMEOUT)

    assert failure.failures == 12
    assert failure.retry_at - failure.failed_at == tips.BACKOFF_MAX


def test_a_tip_written_at_last_forgets_the_failures(configured, shelf):
    pasta = shelf[0]
    tips.tip_failure_record(product=pasta, kind=tips.KIND_TOO_LONG)
    ProductTipFailure.objects.update(retry_at="2000-01-01T00:00Z")
    configured.modes_by_name.clear()

    tips.product_tips_generate()

    assert ProductTip.objects.filter(product=pasta).exists()
    assert not ProductTipFailure.objects.exists()


@pytest.mark.parametrize("mode", ["429", "redirect"])
def test_failures_that_are_not_the_product_s_do_not_back_it_off(configured, pasta, mode):
    configured.mode = mode

    tips.product_tips_generate()

    assert not ProductTipFailure.objects.exists()


# --- Limits --------------------------------------------------------------------------------


def test_calls_are_capped_per_minute(configured, settings, pasta):
    settings.AI_TIPS_RATE_PER_MINUTE = 2
    ProductFactory.create_batch(3)

    first = tips.product_tips_generate(limit=10)
    second = tips.product_tips_generate(limit=10)

    assert (first.written, first.stopped) == (2, tips.STOP_RATE)
    assert (second.written, second.stopped) == (0, tips.STOP_RATE)
    assert len(configured.requests) == 2


def test_a_run_writes_at_most_its_limit(configured, pasta):
    ProductFactory.create_batch(3)

    run = tips.product_tips_generate(limit=2)

    assert run == tips.TipRun(written=2)
    assert ProductTip.objects.count() == 2


def test_only_one_run_at_a_time(configured, pasta):
    cache.add(tips.RUNNING_KEY, 1, 60)

    assert tips.product_tips_generate() == tips.TipRun(stopped=tips.STOP_BUSY)
    assert configured.requests == []


@pytest.mark.parametrize("length", [TIP_MAX_CHARS + 1, 1000])
def test_an_over_long_tip_is_refused(configured, pasta, caplog, length):
    configured.tip = "x" * length

    run = tips.product_tips_generate()

    assert run == tips.TipRun(failed=1)
    assert not ProductTip.objects.exists()
    assert tips.KIND_TOO_LONG in caplog.text


def test_a_tip_at_the_limit_is_kept_with_whitespace_tidied(configured, pasta):
    configured.tip = "  " + "a " * (TIP_MAX_CHARS // 2 - 1) + "b\n"

    tips.product_tips_generate()

    text = ProductTip.objects.get().text
    assert len(text) == TIP_MAX_CHARS - 1 and text.endswith("a b")


# --- Provider failures leave the page working -------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "kind", "status"),
    [
        ("slow", tips.KIND_TIMEOUT, None),
        ("500", tips.KIND_SERVER_ERROR, 500),
        ("redirect", tips.KIND_REFUSED, 302),
    ],
)
def test_provider_failure_ends_the_run_and_is_logged_without_secrets(
    client, configured, pasta, caplog, mode, kind, status
):
    configured.mode = mode
    ProductFactory()

    with caplog.at_level(logging.WARNING, logger="catalog.tips"):
        run = tips.product_tips_generate()

    assert run == tips.TipRun(failed=1, stopped=tips.STOP_PROVIDER)
    assert len(configured.requests) == 1  # the second product was not tried; no redirect followed
    assert not ProductTip.objects.exists()
    assert kind in caplog.text
    assert (f"HTTP {status}" in caplog.text) is (status is not None)
    assert API_KEY not in caplog.text
    assert "Tip:" not in product_page(client, pasta)


def test_429_pauses_the_next_runs(client, configured, pasta, caplog):
    configured.mode = "429"

    first = tips.product_tips_generate()
    second = tips.product_tips_generate()

    assert first == tips.TipRun(failed=1, stopped=tips.STOP_PROVIDER)
    assert second == tips.TipRun(stopped=tips.STOP_PAUSED)
    assert len(configured.requests) == 1
    assert tips.KIND_RATE_LIMITED in caplog.text and "HTTP 429" in caplog.text
    assert API_KEY not in caplog.text
    assert product_page(client, pasta)


@pytest.mark.parametrize("mode", ["malformed", "not_json_content"])
def test_a_malformed_answer_is_dropped_and_the_run_goes_on(client, configured, pasta, mode):
    configured.mode = mode
    ProductFactory()

    run = tips.product_tips_generate()

    assert run == tips.TipRun(failed=2)
    assert len(configured.requests) == 2
    assert not ProductTip.objects.exists()
    assert "Tip:" not in product_page(client, pasta)


def test_an_unreachable_provider_ends_the_run(settings, configured, pasta):
    configured.stop()  # nothing listens on the port any more

    run = tips.product_tips_generate()

    assert run == tips.TipRun(failed=1, stopped=tips.STOP_PROVIDER)


def test_command_reports_what_it_wrote(configured, pasta):
    out = StringIO()
    call_command("product_tips_generate", stdout=out)

    assert "Wrote 1 tip(s); 0 failed." in out.getvalue()


# --- Staff review ------------------------------------------------------------------------------

CHANGELIST = reverse("admin:catalog_producttip_changelist")


def change_url(tip: ProductTip) -> str:
    return reverse("admin:catalog_producttip_change", args=[tip.pk])


@pytest.fixture
def tip(pasta):
    return ProductTip.objects.create(product=pasta, text="Keep dry.", source_hash="abc")


def test_staff_edit_makes_the_tip_theirs(staff_client, tip):
    response = staff_client.post(change_url(tip), {"text": "Keep it dry.", "status": "pending"})

    assert response.status_code == 302
    tip.refresh_from_db()
    assert (tip.text, tip.status) == ("Keep it dry.", "edited")


def test_staff_hide_show_and_regenerate_tips(staff_client, client, tip, pasta):
    def act(action: str) -> list[str]:
        response = staff_client.post(
            CHANGELIST, {"action": action, "_selected_action": [tip.pk]}, follow=True
        )
        return [str(m) for m in response.context["messages"]]

    assert act("hide_selected") == [MESSAGE_TIPS_HIDDEN.format(count=1)]
    assert "Keep dry." not in product_page(client, pasta)
    assert act("show_selected") == [MESSAGE_TIPS_SHOWN.format(count=1)]
    tip.refresh_from_db()
    assert tip.status == "edited"
    assert "Keep dry." in product_page(client, pasta)
    assert act("regenerate_selected") == [MESSAGE_TIPS_REGENERATE.format(count=1)]
    tip.refresh_from_db()
    assert (tip.status, tip.source_hash) == ("pending", "")


def test_staff_cannot_add_tips_by_hand(staff_client):
    assert staff_client.get(reverse("admin:catalog_producttip_add")).status_code == 403


def test_clerks_and_shoppers_cannot_review_tips(clerk_client, alice_client, client, tip):
    assert clerk_client.get(CHANGELIST).status_code == 403
    assert alice_client.get(CHANGELIST).status_code == 302  # to the admin login
    assert client.get(change_url(tip)).status_code == 302
