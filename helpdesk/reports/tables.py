"""The reports' tables, defined once: the page's tables and their CSV files read the same
columns from the same ``Figures``, so a CSV says exactly what the page says."""

import csv
import io
from dataclasses import dataclass

from helpdesk.models.ticket import PRIORITIES


@dataclass(frozen=True)
class Column:
    """A column of a table: its heading and the attribute of ``Figures`` it shows. The CSV
    has the same column, or the ``csv`` columns (heading, attribute) it stands for: the
    page's "92% (46 of 50)" is three numbers there."""

    heading: str
    attribute: str
    csv: tuple = ()

    def csv_columns(self):
        return self.csv or ((self.heading, self.attribute),)


def _compliance(heading, attribute, *, met, of, counted):
    """A compliance column, and in the CSV its counts and share."""
    return Column(heading, attribute, csv=(
        (f"{counted} within SLA", met), (f"{counted} with an SLA target", of),
        (f"{heading} (%)", f"{attribute}.exact_percent")))


SLA = (
    _compliance("First response within SLA", "first_response_sla", met="sla_responses_met",
                of="sla_responses", counted="First responses"),
    _compliance("Resolution within SLA", "resolution_sla", met="sla_resolutions_met",
                of="sla_resolutions", counted="Resolutions"),
)
# Per period, means and SLA; medians per group and in all (services.reports reads the
# histograms once, by group).
VOLUME_COLUMNS = (
    Column("Opened", "opened"),
    Column("Resolved", "resolved"),
    Column("First responses", "responded"),
    Column("Mean first response (hours)", "first_response_hours"),
    Column("Mean resolution (hours)", "resolution_hours"),
    *SLA,
)
BREAKDOWN_COLUMNS = (
    Column("Opened", "opened"),
    Column("Resolved", "resolved"),
    Column("Opened, still unresolved", "unresolved"),
    Column("Mean first response (hours)", "first_response_hours"),
    Column("Median first response (hours, est.)", "median_first_response_hours"),
    Column("Mean resolution (hours)", "resolution_hours"),
    Column("Median resolution (hours, est.)", "median_resolution_hours"),
    *SLA,
    Column("Backlog now", "backlog"),
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


def value_of(figures, attribute):
    """``figures``' ``attribute``, which may name one of its own (``resolution_sla.met``);
    None when a part is (no compliance without a target)."""
    value = figures
    for name in attribute.split("."):
        if value is None:
            return None
        value = getattr(value, name)
    return value


def cell(value):
    """A value as the page and the CSV show it: blank for no value."""
    return "" if value is None else str(value)


def page_cell(figures, column):
    """The page's cell of ``column`` for ``figures``."""
    return cell(value_of(figures, column.attribute))


def table_csv(report, name):
    """The table ``name`` of ``report`` as CSV text, heading row first."""
    _title, first, columns = TABLES[name]
    csv_columns = [pair for column in columns for pair in column.csv_columns()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([first, *(heading for heading, _ in csv_columns)])
    for figures in rows_of(report, name):
        label = str(label_of(name, figures))
        if label.startswith(FORMULA_STARTS):
            label = "'" + label
        writer.writerow([label, *(cell(value_of(figures, attribute))
                                  for _, attribute in csv_columns)])
    return out.getvalue()
