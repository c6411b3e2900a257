"""``/reports`` and its CSV files: thin views over ``services.reports``.

Staff and resellers only: a customer (subscriber or company admin) gets 404, as a page that
does not exist for them. A range that cannot be shown answers 400 with the form as typed and
a message, never an error page.
"""

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from helpdesk.reports import charts
from helpdesk.reports.tables import TABLES, label_of, page_cell, rows_of, table_csv
from helpdesk.services import reports as service

bp = Blueprint("reports", __name__, url_prefix="/reports")
ORGANISATIONS_SHOWN = 20  # on the page; the CSV lists every one


@bp.before_request
@login_required
def staff_and_resellers_only():
    """Reports are desk pages: customers get 404."""
    if current_user.is_customer:
        abort(404)


@bp.get("")
def reports():
    """The report of the range asked for (the last 30 days by default)."""
    try:
        date_range = service.parse_range(request.args)
    except service.RangeError as error:
        return render_template("reports/reports.html", error=str(error), report=None,
                               typed=request.args,
                               presets=service.PRESETS), 400
    report = service.build_report(current_user, date_range)
    return render_template(
        "reports/reports.html", report=report, typed=request.args, presets=service.PRESETS,
        tables=TABLES, label_of=label_of, rows_of=rows_of, page_cell=page_cell,
        organisations_shown=ORGANISATIONS_SHOWN,
        shows_resellers=len(report.breakdowns["reseller"]) > 1,
        volume=charts.volume_chart(report.periods, date_range.per),
        bars={name: charts.bars_chart(report.breakdowns[name],
                                      label=lambda f, name=name: label_of(name, f))
              for name in service.BREAKDOWNS})


@bp.get("/<name>.csv")
def table_file(name):
    """One table of the report as CSV, for the same range as the page."""
    if name not in TABLES:
        abort(404)
    try:
        date_range = service.parse_range(request.args)
    except service.RangeError as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    report = service.build_report(current_user, date_range)
    filename = f"tickets-{name}-{date_range.start.isoformat()}-to-{date_range.end.isoformat()}.csv"
    return Response(table_csv(report, name), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
