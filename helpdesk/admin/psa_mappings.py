"""``/admin/psa/<id>/...``: what of ours is what in the PSA: the mapping editor (statuses,
priorities, categories), the fields a new PSA ticket needs, and which organisations and
subscribers are which PSA clients and users (``services.psa_mappings``,
``services.psa_account_links``). Behind the same admins-only check as every admin page."""

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user

from helpdesk.admin.answers import changed, refused
from helpdesk.admin.psa import ago, connection_or_404
from helpdesk.admin.views import admins_only
from helpdesk.extensions import db
from helpdesk.keyset import decode_cursor
from helpdesk.services import psa_account_links as links
from helpdesk.services import psa_mappings as service

bp = Blueprint("admin_psa_mappings", __name__, url_prefix="/admin/psa/<int:connection_id>")
bp.before_request(admins_only)
bp.context_processor(lambda: {"ago": ago})

MAPPINGS, FIELDS, LINKS = ("admin/psa_mappings.html", "admin/psa_fields.html",
                           "admin/psa_links.html")
KINDS = {"organisations": "organisation", "subscribers": "user"}


def _mappings(connection, errors=None, typed=None):
    return {"connection": connection, "tab": "mappings", "errors": errors or {},
            "typed": typed or {},
            "tables": [(kind, service.mapping_rows(connection, kind),
                        service.lookups_of(connection, service.LOOKUP_OF[kind]))
                       for kind in service.LOOKUP_OF]}


@bp.get("/mappings")
def mappings(connection_id):
    """Three tables of selects: our statuses, priorities and categories to the PSA's."""
    return render_template(MAPPINGS, **_mappings(connection_or_404(connection_id)))


@bp.post("/mappings")
def save_mappings(connection_id):
    """Save the three tables at once (each select is ``<kind>-<ours>``)."""
    connection = connection_or_404(connection_id)
    chosen = {kind: {} for kind in service.LOOKUP_OF}
    for key, value in request.form.items():
        kind, _, ours = key.partition("-")
        if kind in chosen and ours:
            chosen[kind][ours] = value
    try:
        done = service.set_mappings(connection, chosen=chosen, actor=current_user)
    except service.MappingError as error:
        db.session.rollback()
        return refused(MAPPINGS, **_mappings(connection_or_404(connection_id),
                                             {error.field: str(error)}, dict(request.form)))
    return changed(f"Saved {done} mapping{'' if done == 1 else 's'}." if done
                   else "Nothing changed.",
                   url_for("admin_psa_mappings.mappings", connection_id=connection_id))


def _fields(connection, errors=None, typed=None):
    default = connection.default_client_id
    return {"connection": connection, "tab": "fields", "errors": errors or {},
            "typed": typed or {}, "fields": service.required_fields(connection),
            "default_client": links.resolve_or_none(connection, kind="client", text=default)}


@bp.get("/new-ticket-fields")
def fields(connection_id):
    """The fields the PSA requires on a new ticket, and the client for unlinked ones."""
    return render_template(FIELDS, **_fields(connection_or_404(connection_id)))


@bp.post("/new-ticket-fields")
def save_fields(connection_id):
    """Save the required fields' values and the default client."""
    connection = connection_or_404(connection_id)
    values = {key[len("field-"):]: value for key, value in request.form.items()
              if key.startswith("field-")}
    try:
        done = service.set_default_client(
            connection, client=request.form.get("default_client", ""), actor=current_user)
        done += service.set_new_ticket_fields(connection, values=values, actor=current_user)
    except service.MappingError as error:
        db.session.rollback()
        return refused(FIELDS, **_fields(connection_or_404(connection_id),
                                         {error.field: str(error)}, dict(request.form)))
    return changed("Saved." if done else "Nothing changed.",
                   url_for("admin_psa_mappings.fields", connection_id=connection_id))


def _kind(which):
    return KINDS.get(which) or abort(404)


def _links(connection, which, *, errors=None, typed=None):
    kind = _kind(which)
    order = links.order_of(kind)
    text = request.args.get("q", "")
    after = decode_cursor(request.args.get("after"), order)
    rows, page = links.page(connection, kind=kind, text=text, after=after,
                            per_page=current_app.config["USERS_PER_PAGE"])
    return {"connection": connection, "tab": which, "which": which, "kind": kind,
            "rows": rows, "next_cursor": page.next_cursor, "paged": after is not None,
            "text": text, "errors": errors or {}, "typed": typed or {},
            "psa_words": links.PSA_WORDS[kind],
            "suggestions": links.suggestions_left(connection, kind=kind)}


@bp.get("/<which>")
def linked(connection_id, which):
    """Our organisations (or subscribers), a page at a time, each with its PSA client (or
    user) and a suggestion by name (or email)."""
    connection = connection_or_404(connection_id)
    return render_template(LINKS, **_links(connection, which))


@bp.post("/<which>/<int:local_id>")
def link(connection_id, which, local_id):
    """Link one of ours to a PSA client or user (``psa``: an id, a name or an email;
    ``unlink`` or an empty ``psa``: unlink)."""
    connection = connection_or_404(connection_id)
    kind = _kind(which)
    back = url_for("admin_psa_mappings.linked", connection_id=connection_id, which=which,
                   q=request.args.get("q") or None, after=request.args.get("after") or None)
    psa = "" if request.form.get("unlink") else request.form.get("psa", "")
    try:
        made = links.link(connection, kind=kind, local_id=local_id, psa=psa, actor=current_user)
    except links.LinkError as error:
        db.session.rollback()
        if error.field is None:
            abort(404)
        return refused(LINKS, **_links(connection_or_404(connection_id), which,
                                       errors={local_id: str(error)},
                                       typed={local_id: request.form.get("psa", "")}))
    return changed("Linked." if made else "Unlinked.", back)


@bp.post("/<which>/suggested")
def link_suggested(connection_id, which):
    """Link every one of ours without a link to its suggestion (a few hundred a click)."""
    connection = connection_or_404(connection_id)
    made = links.link_suggested(connection, kind=_kind(which), actor=current_user)
    return changed(f"Linked {made} by their {'names' if which == 'organisations' else 'emails'}.",
                   url_for("admin_psa_mappings.linked", connection_id=connection_id,
                           which=which))
