"""The reports' tables, defined once: the page's tables and their CSV files read the same
columns from the same ``Figures``, so a CSV says exactly what the page says."""

import csv
import io

from helpdesk.models.ticket import PRIORITIES

# (heading, attribute of Figures)
VOLUME_COLUMNS = (
    ("Opened", "opened"),
    ("Resolved", "resolved"),
    ("First responses", "responded"),
    ("Mean first response (hours)", "first_response_hours"),
    ("Mean resolution (hours)", "resolution_hours"),
)
BREAKDOWN_COLUMNS = (
    ("Opened", "opened"),
    ("Resolved", "resolved"),
    ("Opened, still unresolved", "unresolved"),
    ("Mean first response (hours)", "first_response_hours"),
    ("Mean resolution (hours)", "resolution_hours"),
    ("Backlog now", "backlog"),
    # ("SLA met", "sla_compliance"): here once tickets store SLA due times (issue 10 item 4).
)
TABLES = {
    "volume": ("Ticket volume", "Period from", VOLUME_COLUMNS),
    "category": ("By category", "Category", BREAKDOWN_COLUMNS),
    "priority": ("By priority", "Priority", BREAKDOWN_COLUMNS),
    "reseller": ("By reseller", "Reseller", BREAKDOWN_COLUMNS),
    "organisation": ("By organisation", "Organisation", BREAKDOWN_COLUMNS),
}
PRIORITY_LABELS = {priority: priority.capitalize() for priority in PRIORITIES}
# A spreadsheet runs a cell starting with one of these as a formula: such names get a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows_of(report, name):
    """The ``Figures`` a table lists, in the page's order."""
    return report.periods if name == "volume" else report.breakdowns[name]


def label_of(name, figures):
    """The first cell of a row: a priority in words, else the group's label."""
    if name == "priority":
        return PRIORITY_LABELS.get(figures.key, figures.label)
    return figures.label


def cell(value):
    """A number as the page and the CSV show it: blank for no value."""
    return "" if value is None else value


def table_csv(report, name):
    """The table ``name`` of ``report`` as CSV text, heading row first."""
    _title, first, columns = TABLES[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([first, *(heading for heading, _ in columns)])
    for figures in rows_of(report, name):
        label = str(label_of(name, figures))
        if label.startswith(FORMULA_STARTS):
            label = "'" + label
        writer.writerow([label, *(cell(getattr(figures, attribute)) for _, attribute in columns)])
    return out.getvalue()
