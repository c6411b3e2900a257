"""The reports page in Chromium: reached from the header, a chart drawn, a preset and a custom
range chosen by hand, a CSV downloaded, and at 390 px no sideways scroll but inside the wide
tables."""

from playwright.sync_api import expect

from tests.browser.test_login import sign_in
from tests.world import PASSWORD


def test_reports_from_the_header_with_a_chart_a_range_and_a_csv(page, world, live_server):
    """The header's Reports link opens the last 30 days with the world's six tickets charted;
    Last 7 days and a custom range (dates typed) change the range; a CSV downloads; no
    script or style error under the content security policy."""
    sign_in(page, "agent@test.example", PASSWORD)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    expect(page.locator(".report-totals dd").first).to_have_text("6")
    expect(page.locator("svg.chart rect.bar-opened").first).to_be_visible()
    expect(page.get_by_role("img", name="Tickets opened and resolved")).to_be_visible()
    page.get_by_role("link", name="Last 7 days").click()
    expect(page.locator(".report-span")).to_contain_text("(7 days), per day")
    page.get_by_label("From", exact=True).fill("2026-01-01")
    page.get_by_label("To", exact=True).fill("2026-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-span")).to_have_text("2026-01-01 to 2026-01-31 (31 days), per day")
    expect(page.locator(".report-totals dd").first).to_have_text("0")
    page.get_by_role("link", name="Last 30 days").click()
    with page.expect_download() as download:
        page.locator("#category-heading + a").click()
    assert download.value.suggested_filename.startswith("tickets-category-")
    assert page.console_errors == []


def test_reports_fit_a_phone(browser, world, live_server):
    """At 390 px the page, its charts and its tables stay inside the screen (tables scroll
    within themselves)."""
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        sign_in(page, "north_reseller@test.example", PASSWORD)
        page.goto("/reports?days=90")
        expect(page.locator("svg.chart").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("svg.chart").first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        # The breakdowns' tables (means, medians, SLA) are wider than a phone: each scrolls
        # inside its own wrapper, which stays on the screen.
        wrapper = page.locator("#table-priority").locator("xpath=..")
        box = wrapper.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert wrapper.evaluate("w => w.scrollWidth > w.clientWidth")
        expect(page.locator(".report-totals")).to_contain_text("First response within SLA")
    finally:
        context.close()
