"""In a real Chromium: pages whose scripts matter run under the CSP without a single violation."""

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def watch_csp_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_swagger_ui_renders_under_the_policy(live_server, page):
    violations = watch_csp_violations(page)

    page.goto(live_server.url + "/api/docs/")

    expect(page.locator(".swagger-ui .title").first).to_contain_text("smartcart API")
    assert violations == []


def test_cart_page_script_runs_under_the_policy(live_server, page):
    violations = watch_csp_violations(page)

    page.goto(live_server.url + "/cart/")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert violations == []
