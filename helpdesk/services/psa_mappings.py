"""Which of the PSA's values stand for ours, and what a new ticket in the PSA must carry.

Mappings (``psa_mappings``): our 7 statuses, 4 priorities and our categories, each to one of
the PSA's cached lookups (``psa_lookups``, refreshed by ``services.psa_connections``).
Categories map to the PSA's **ticket types**, not to HaloPSA's categories: ticket types are a
lookup every HaloPSA instance has (``/api/TicketType``, cached with the others), they decide
which fields a new ticket must carry (``required_fields``) and its workflow, while HaloPSA's
categories (``category_1``..``category_4``) are free-text trees set up per instance that the
connector does not fetch; a desk category is closer to "what kind of request" than to a
classification within one.

A value is only ever mapped to a lookup id the cache holds, so a mapping can always be shown
by name; after a refresh drops a value, its mapping stays (the PSA may bring it back) and the
editor marks it as gone.

New tickets: the fields the PSA requires (per ticket type, in the ticket types' ``extra``)
are filled in once per connection (``new_ticket_fields``), and the PSA client that tickets of
organisations not linked to one go to (``default_client_id``).
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, STATUSES, Category, PsaLookup, PsaMapping
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.services.psa_account_links import LinkError, resolve_lookup
from helpdesk.services.psa_connections import audit_field
from helpdesk.template_filters import status_label

# Our kind of value -> the PSA lookup kind it maps to.
LOOKUP_OF = {"status": "status", "priority": "priority", "category": "ticket_type"}
LOOKUP_LABELS = {"status": "Statuses", "priority": "Priorities", "ticket_type": "Ticket types",
                 "client": "Clients", "user": "Users", "agent": "Agents"}
MAX_FIELD_VALUE = 500
# A required field named after one of these holds one of that lookup's ids: offered as a
# list rather than typed.
FIELD_LOOKUPS = {"agent_id": "agent", "client_id": "client", "user_id": "user",
                 "status_id": "status", "priority_id": "priority", "tickettype_id": "ticket_type"}
MAX_LISTED_CHOICES = 300  # a longer list (clients, users) is typed as an id instead


class MappingError(Refused):
    """A mapping or a new-ticket field was refused; ``field`` names the input."""


@dataclass(frozen=True)
class MappingRow:
    """One value of ours and what it maps to."""

    ours: str
    label: str
    theirs: str | None  # the PSA lookup id, or None
    gone: bool  # mapped to a value the PSA no longer lists


@dataclass(frozen=True)
class RequiredField:
    """A field the PSA requires on a new ticket, and what the admin filled in."""

    name: str
    label: str
    ticket_types: list  # the names of the ticket types that require it
    value: str
    choices: list  # [(id, name)] when the field takes a lookup's id, else []


def lookup_counts(connection):
    """``{kind: how many}`` of the cached lookups (every kind, 0 when none)."""
    counts = dict(db.session.execute(select(PsaLookup.kind, func.count()).where(
        PsaLookup.connection_id == connection.id).group_by(PsaLookup.kind)).all())
    return {kind: counts.get(kind, 0) for kind in LOOKUP_LABELS}


def lookups_of(connection, kind):
    """The cached lookups of ``kind``, by name."""
    return db.session.scalars(select(PsaLookup).where(
        PsaLookup.connection_id == connection.id, PsaLookup.kind == kind)
        .order_by(PsaLookup.name, PsaLookup.external_id)).all()


def ours_of(kind):
    """Our values of ``kind``: ``[(value, label)]``."""
    if kind == "status":
        return [(status, status_label(status)) for status in STATUSES]
    if kind == "priority":
        return [(priority, priority.capitalize()) for priority in PRIORITIES]
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.id))
    return [(str(c.id), c.name + ("" if c.active else " (retired)")) for c in categories]


def mappings_of(connection, kind):
    """``{ours: theirs}`` of ``kind`` on ``connection``."""
    return dict(db.session.execute(select(PsaMapping.ours, PsaMapping.theirs).where(
        PsaMapping.connection_id == connection.id, PsaMapping.kind == kind)).all())


def mapping_rows(connection, kind):
    """Every value of ours of ``kind`` with what it maps to."""
    mapped = mappings_of(connection, kind)
    known = {lookup.external_id for lookup in lookups_of(connection, LOOKUP_OF[kind])}
    return [MappingRow(ours=ours, label=label, theirs=mapped.get(ours),
                       gone=ours in mapped and mapped[ours] not in known)
            for ours, label in ours_of(kind)]


def set_mappings(connection, *, chosen, actor):
    """Map each of ours in ``chosen`` (``{kind: {ours: theirs id or ''}}``; '' unmaps).
    Values of ours not in ``chosen`` are left alone. Returns how many changed.

    Refused, with nothing saved, when a value of ours is unknown or a choice is not a cached
    lookup of the right kind (a mapping to a value the PSA no longer lists may stay as it
    is); ``field`` is ``"<kind>-<ours>"``."""
    names = {}
    for kind, values in chosen.items():
        if kind not in LOOKUP_OF:
            raise MappingError(f"There is nothing called {kind!r} to map.", field=None)
        ours_known = dict(ours_of(kind))
        names[kind] = {lookup.external_id: lookup.name
                       for lookup in lookups_of(connection, LOOKUP_OF[kind])}
        mapped = mappings_of(connection, kind)
        for ours, theirs in values.items():
            if ours not in ours_known:
                raise MappingError(f"There is no {kind} {ours!r} here.",
                                   field=f"{kind}-{ours}")
            if theirs and theirs not in names[kind] and theirs != mapped.get(ours):
                raise MappingError(f"Choose one of the PSA's values for {ours_known[ours]}.",
                                   field=f"{kind}-{ours}")
    changed = sum(_apply(connection, kind, values, names[kind], actor=actor)
                  for kind, values in chosen.items())
    db.session.commit()
    return changed


def _apply(connection, kind, values, names, *, actor):
    """Write checked choices of one kind; returns how many changed."""
    rows = {row.ours: row for row in db.session.scalars(select(PsaMapping).where(
        PsaMapping.connection_id == connection.id, PsaMapping.kind == kind))}
    changed = 0
    for ours, theirs in values.items():
        row = rows.get(ours)
        if (row.theirs if row else "") == (theirs or ""):
            continue
        old = names.get(row.theirs, row.theirs) if row else None
        if not theirs:
            db.session.delete(row)
        elif row is None:
            db.session.add(PsaMapping(connection_id=connection.id, kind=kind, ours=ours,
                                      theirs=theirs))
        else:
            row.theirs = theirs
        audit.record("psa.mapping", actor=actor,
                     field=audit_field(connection, f"{kind}.{ours}"),
                     old=old, new=names.get(theirs) if theirs else None)
        changed += 1
    return changed


def required_fields(connection):
    """The fields the PSA requires on a new ticket of any of its ticket types, each once,
    with the value filled in and, for a field that takes a lookup's id, the choices."""
    found = {}
    for ticket_type in lookups_of(connection, "ticket_type"):
        for name, label in (ticket_type.extra or {}).get("required_fields", []):
            entry = found.setdefault(name, {"label": label, "types": []})
            entry["types"].append(ticket_type.name)
    values = connection.new_ticket_fields or {}
    return [RequiredField(name=name, label=entry["label"], ticket_types=entry["types"],
                          value=str(values.get(name, "")), choices=_choices(connection, name))
            for name, entry in sorted(found.items(), key=lambda item: item[1]["label"])]


def _choices(connection, field_name):
    kind = FIELD_LOOKUPS.get(field_name.lower())
    if kind is None:
        return []
    lookups = db.session.execute(select(PsaLookup.external_id, PsaLookup.name).where(
        PsaLookup.connection_id == connection.id, PsaLookup.kind == kind)
        .order_by(PsaLookup.name).limit(MAX_LISTED_CHOICES + 1)).all()
    return [] if len(lookups) > MAX_LISTED_CHOICES else [tuple(row) for row in lookups]


def set_new_ticket_fields(connection, *, values, actor):
    """Store what new tickets carry in the PSA's required fields (``{field: text}``; only
    fields some ticket type requires). Returns how many changed."""
    fields = {field.name: field for field in required_fields(connection)}
    stored = dict(connection.new_ticket_fields or {})
    updated = dict(stored)
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            raise MappingError("The PSA does not ask for that field.", field=f"field-{name}")
        value = (value or "").strip()
        if len(value) > MAX_FIELD_VALUE:
            raise MappingError(f"{field.label} can be at most {MAX_FIELD_VALUE} characters.",
                               field=f"field-{name}")
        if value and field.choices and value not in {id_ for id_, _ in field.choices}:
            raise MappingError(f"Choose one of the PSA's values for {field.label}.",
                               field=f"field-{name}")
        if value:
            updated[name] = value
        else:
            updated.pop(name, None)
    changed = 0
    for name in sorted(set(stored) | set(updated)):
        if stored.get(name) != updated.get(name):
            audit.record("psa.new_ticket_field", actor=actor,
                         field=audit_field(connection, f"field.{name}"),
                         old=stored.get(name), new=updated.get(name))
            changed += 1
    connection.new_ticket_fields = updated
    db.session.commit()
    return changed


def new_ticket_fields_for(connection, ticket_type_id):
    """The required fields' values for a new ticket of ``ticket_type_id`` (for
    ``TicketDraft.extra_fields``): only the fields that ticket type requires."""
    if ticket_type_id is None:
        return {}
    ticket_type = db.session.scalar(select(PsaLookup).where(
        PsaLookup.connection_id == connection.id, PsaLookup.kind == "ticket_type",
        PsaLookup.external_id == str(ticket_type_id)))
    values = connection.new_ticket_fields or {}
    needed = (ticket_type.extra or {}).get("required_fields", []) if ticket_type else []
    return {name: values[name] for name, _ in needed if values.get(name)}


def set_default_client(connection, *, client, actor):
    """The PSA client for tickets of organisations linked to none (``client``: its id or
    name; '' or None: such tickets wait, flagged for mapping). Returns 1 if it changed."""
    found = None
    if (client or "").strip():
        try:
            found = resolve_lookup(connection, kind="client", text=client)
        except LinkError as error:
            raise MappingError(str(error), field="default_client") from None
    client_id = found.external_id if found else None
    if client_id != connection.default_client_id:
        old = connection.default_client_id
        old_name = db.session.scalar(select(PsaLookup.name).where(
            PsaLookup.connection_id == connection.id, PsaLookup.kind == "client",
            PsaLookup.external_id == old)) if old else None
        audit.record("psa.default_client", actor=actor,
                     field=audit_field(connection, "default_client"),
                     old=old_name or old, new=found.name if found else None)
        connection.default_client_id = client_id
        db.session.commit()
        return 1
    return 0
