"""``/reports`` as a page: who may see it, the range's validation with the text kept, a custom
range's links, quiet ranges, chart axes and CSV cells that never start a formula."""

from datetime import timedelta
from html import unescape

import pytest
from markupsafe import escape

from helpdesk.models.timestamps import utcnow
from helpdesk.services import reports
from tests.world import email


def test_reports_are_for_staff_and_resellers(client, auth, world):
    """Customers get 404 (page and CSV); anonymous people are sent to sign in; a reseller's
    page names only its own reseller."""
    assert client.get("/reports").status_code == 302
    for customer in ("alice", "carol"):
        auth.login(email(customer))
        assert client.get("/reports").status_code == 404
        assert client.get("/reports/category.csv").status_code == 404
        auth.logout()
    auth.login(email("north_reseller"))
    html = client.get("/reports").text
    assert "South" not in html and "Zeta" not in html and "Acme" in html
    assert "South" not in client.get("/reports/organisation.csv").text
    auth.logout()
    auth.login(email("agent"))
    html = client.get("/reports").text
    assert "By reseller" in html and "South" in html and "Zeta" in html


def test_a_custom_range_and_its_links(client, auth, world):
    """From and to (inclusive), per day or week; the CSV links carry the same range."""
    auth.login(email("agent"))
    today = utcnow().date()
    start = (today - timedelta(days=9)).isoformat()
    response = client.get("/reports", query_string={"from": start, "to": today.isoformat()})
    assert response.status_code == 200
    assert f"{start} to {today.isoformat()} (10 days), per day" in response.text
    assert f"/reports/category.csv?from={start}&amp;to={today.isoformat()}&amp;per=day" \
        in response.text
    assert client.get("/reports/nothing.csv").status_code == 404


@pytest.mark.parametrize(("query", "message"), [
    ({"from": "2026-13-01", "to": "2026-12-31"}, "is not a date"),
    ({"from": "yesterday", "to": "2026-01-02"}, "is not a date"),
    ({"from": "2026-01-01"}, "Give the end date"),
    ({"to": "2026-01-01"}, "Give the start date"),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "start date is after the end date"),
    ({"from": "2020-01-01", "to": "2022-01-01"}, "at most 366 days"),
    ({"from": "2026-01-01", "to": "2999-01-01"}, "in the future"),
    ({"days": "45"}, "last 7, 30 or 90 days"),
    ({"days": "-1"}, "last 7, 30 or 90 days"),
    ({"per": "month"}, "per day or per week"),
    ({"from": "<b>x</b>", "to": "2026-01-01"}, "is not a date"),
])
def test_bad_ranges_are_answered_400_with_the_text_kept(client, auth, world, query, message):
    """A range the report cannot show: 400, a message saying why, the form as typed (escaped);
    its CSV is refused the same way."""
    auth.login(email("agent"))
    response = client.get("/reports", query_string=query)
    assert response.status_code == 400
    assert message in unescape(response.text)
    assert 'role="alert"' in response.text and "<b>x</b>" not in response.text
    for name in ("from", "to"):
        if name in query:
            assert f'name="{name}" value="{escape(query[name])}"' in response.text
    assert client.get("/reports/volume.csv", query_string=query).status_code == 400


def test_csv_cells_never_start_a_formula(app_context, world):
    """A name a spreadsheet would run as a formula is quoted in the CSV."""
    from helpdesk.reports.tables import table_csv

    figures = reports.Figures(label="=HYPERLINK(1)", key=1, opened=2)
    report = reports.Report(range=reports.parse_range({}), totals=figures, periods=[],
                            breakdowns={"organisation": [figures]})
    assert table_csv(report, "organisation").splitlines()[1].startswith("'=HYPERLINK(1)")


def test_a_quiet_range_says_so(client, auth, world):
    """Nothing opened or resolved: a sentence instead of an empty chart; the bars show the
    backlog now."""
    auth.login(email("agent"))
    html = client.get("/reports", query_string={"from": "2026-01-01", "to": "2026-01-31"}).text
    assert "No tickets were opened or resolved in this range." in html
    assert '<title id="category-chart-title">Backlog now by category</title>' in html


def test_chart_axes_read_whole_numbers_and_quiet_ranges_chart_the_backlog():
    """A top of 1 has no tick at 0.5 (read "0" twice); a range with nothing opened charts the
    backlog now instead of empty bars; a period without tickets draws no bar."""
    from helpdesk.reports import charts

    quiet = [reports.Figures(label="2026-01-01", key=1, opened=0),
             reports.Figures(label="2026-01-02", key=2, opened=1, resolved=1)]
    volume = charts.volume_chart(quiet, "day")
    assert [value for _, value in volume["ticks"]] == [0, 1]
    assert len(volume["bars"]) == 2 and all(bar.height > 0 for bar in volume["bars"])
    assert [value for _, value in charts.volume_chart(
        [reports.Figures(label="2026-01-01", opened=7)], "day")["ticks"]] == [0, 5, 10]
    waiting = [reports.Figures(label="Billing", backlog=4), reports.Figures(label="Wi-Fi",
                                                                            backlog=2)]
    chart = charts.bars_chart(waiting, label=lambda f: f.label)
    assert chart["value"] == "backlog" and [i["count"] for i in chart["items"]] == [4, 2]
    assert chart["items"][0]["width"] == 2 * chart["items"][1]["width"]
