"""Which of our organisations is which PSA client, and which subscriber is which PSA user.

Links are ``psa_links`` rows of kind ``organisation`` (our organisation id, the PSA client's
id) and ``user`` (our subscriber's id, the PSA user's id): the push sends a new ticket to its
organisation's client and user, the pull files a PSA ticket under its client's organisation
and user's subscriber. Organisations and people can be many on both sides, so lists are read
a page at a time (``helpdesk.keyset``) and a suggestion is matched in SQL: an organisation by
a client of the same name, a subscriber by a PSA user of the same email (any case; a name or
email that two PSA records share suggests neither).
"""

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select

from helpdesk.extensions import db
from helpdesk.keyset import read_page
from helpdesk.models import Organisation, PsaLink, PsaLookup, User
from helpdesk.models.user import CUSTOMER_ROLES
from helpdesk.services import audit
from helpdesk.services.errors import Refused
from helpdesk.services.psa_connections import audit_field

# Our side of each link kind: the model, its order (a name or email, then the id), the PSA
# lookup kind, and what a suggestion matches on.
PSA_KIND = {"organisation": "client", "user": "user"}
PSA_WORDS = {"organisation": "PSA client", "user": "PSA user"}
SUGGEST_LIMIT = 500  # links made by one "link all suggested" click; click again for more


class LinkError(Refused):
    """A link was refused; the message says why."""

    FIELD = "psa"


@dataclass(frozen=True)
class LinkRow:
    """One of ours, what it is linked to and what is suggested."""

    local_id: int
    label: str  # the organisation's name, or the subscriber's name and email
    detail: str  # the organisation's reseller, or the subscriber's organisation
    linked: tuple | None  # (external id, name), the name None when the PSA lists it no more
    suggested: tuple | None  # (external id, name) of the match by name or email


def _ours(kind):
    if kind == "organisation":
        return Organisation, [(Organisation.name, False), (Organisation.id, False)], []
    where = [User.role.in_(sorted(CUSTOMER_ROLES)), User.disabled_at.is_(None)]
    return User, [(User.email, False), (User.id, False)], where


def order_of(kind):
    """The order our ``kind`` rows are listed in (for ``helpdesk.keyset`` cursors)."""
    return _ours(kind)[1]


def _matching(kind):
    """(our column, the lookup's column) a suggestion compares, lower-cased."""
    if kind == "organisation":
        return func.lower(Organisation.name), func.lower(PsaLookup.name)
    return func.lower(User.email), func.lower(PsaLookup.extra["email"].as_string())


def _unique_lookups(kind, connection_id):
    """The lookups of the PSA kind for ``kind`` whose match value no other one shares."""
    _, theirs = _matching(kind)
    single = (select(theirs.label("key"), func.min(PsaLookup.external_id).label("external_id"))
              .where(PsaLookup.connection_id == connection_id,
                     PsaLookup.kind == PSA_KIND[kind], theirs.is_not(None), theirs != "")
              .group_by(theirs).having(func.count() == 1))
    return single.subquery()


def page(connection, *, kind, text="", after=None, per_page):
    """A page of ours (organisations by name, subscribers by email), matching ``text``,
    after the cursor ``after`` (decoded, ``helpdesk.keyset``): ``(rows, Page)``."""
    model, order, where = _ours(kind)
    text = (text or "").strip().lower()
    if text and kind == "organisation":
        where = [*where, func.lower(Organisation.name).contains(text, autoescape=True)]
    elif text:
        where = [*where, or_(func.lower(User.name).contains(text, autoescape=True),
                             User.email.contains(text, autoescape=True))]
    found = read_page(where, order, per_page=per_page, after=after)
    ids = found.ids
    if not ids:
        return [], found
    records = {row.id: row for row in db.session.scalars(select(model).where(
        model.id.in_(ids)))}
    links = dict(db.session.execute(select(PsaLink.local_id, PsaLink.external_id).where(
        PsaLink.connection_id == connection.id, PsaLink.kind == kind,
        PsaLink.local_id.in_(ids))).all())
    ours, _ = _matching(kind)
    unique = _unique_lookups(kind, connection.id)
    suggested = dict(db.session.execute(
        select(model.id, unique.c.external_id).join(unique, unique.c.key == ours)
        .where(model.id.in_(ids))).all())
    names = dict(db.session.execute(select(PsaLookup.external_id, PsaLookup.name).where(
        PsaLookup.connection_id == connection.id, PsaLookup.kind == PSA_KIND[kind],
        PsaLookup.external_id.in_(set(links.values()) | set(suggested.values())))).all())
    rows = []
    for id_ in ids:
        record = records[id_]
        linked = (links[id_], names.get(links[id_])) if id_ in links else None
        guess = suggested.get(id_)
        rows.append(LinkRow(
            local_id=id_, label=_label(kind, record), detail=_detail(kind, record),
            linked=linked,
            suggested=(guess, names.get(guess)) if guess and guess != links.get(id_) else None))
    return rows, found


def _label(kind, record):
    return record.name if kind == "organisation" else f"{record.name} <{record.email}>"


def _detail(kind, record):
    if kind == "organisation":
        return record.reseller.name if record.reseller else "the operator"
    return record.organisation.name if record.organisation else ""


def resolve_lookup(connection, *, kind, text):
    """The cached lookup of ``kind`` whose id is ``text``, or whose name (any case) is, or
    for users whose email is; ``LinkError`` when none or several are."""
    text = (text or "").strip()
    words = {"client": "PSA client", "user": "PSA user"}.get(kind, "PSA value")
    if not text:
        raise LinkError(f"Enter a {words}'s name or id.")
    base = select(PsaLookup).where(PsaLookup.connection_id == connection.id,
                                   PsaLookup.kind == kind)
    found = db.session.scalar(base.where(PsaLookup.external_id == text))
    if found is not None:
        return found
    same = [func.lower(PsaLookup.name) == text.lower()]
    if kind == "user":
        same.append(func.lower(PsaLookup.extra["email"].as_string()) == text.lower())
    matches = db.session.scalars(base.where(or_(*same)).limit(2)).all()
    if not matches:
        raise LinkError(f"No {words} is called {text!r}: refresh the lookups if it is new.")
    if len(matches) > 1:
        raise LinkError(f"Several {words}s are called {text!r}: enter the id instead.")
    return matches[0]


def resolve_or_none(connection, *, kind, text):
    """``resolve_lookup``, or None when nothing (or several) match: for showing a stored id."""
    if not text:
        return None
    try:
        return resolve_lookup(connection, kind=kind, text=text)
    except LinkError:
        return None


def _record(kind, local_id):
    model, _, where = _ours(kind)
    found = db.session.scalar(select(model).where(model.id == local_id, *where))
    if found is None:
        raise LinkError("There is no such " + ("organisation." if kind == "organisation"
                                               else "subscriber."), field=None)
    return found


def link(connection, *, kind, local_id, psa, actor):
    """Link our ``kind`` row ``local_id`` to the PSA's (``psa``: an id, a name or, for users,
    an email; '' unlinks). Returns the link, or None once unlinked."""
    record = _record(kind, local_id)
    current = db.session.scalar(select(PsaLink).where(
        PsaLink.connection_id == connection.id, PsaLink.kind == kind,
        PsaLink.local_id == local_id))
    lookup = resolve_lookup(connection, kind=PSA_KIND[kind], text=psa) if psa else None
    new_id = lookup.external_id if lookup else None
    old_id = current.external_id if current else None
    if new_id == old_id:
        return current
    old_name = _lookup_name(connection, kind, old_id)
    if lookup is None:
        db.session.delete(current)
    elif current is None:
        current = PsaLink(connection_id=connection.id, kind=kind, local_id=local_id,
                          external_id=new_id)
        db.session.add(current)
    else:
        current.external_id = new_id
    _audit(connection, kind, record, actor=actor, old=old_name,
           new=f"{lookup.name} ({new_id})" if lookup else None)
    db.session.commit()
    return current if lookup else None


def _lookup_name(connection, kind, external_id):
    if external_id is None:
        return None
    name = db.session.scalar(select(PsaLookup.name).where(
        PsaLookup.connection_id == connection.id, PsaLookup.kind == PSA_KIND[kind],
        PsaLookup.external_id == external_id))
    return f"{name} ({external_id})" if name else external_id


def _audit(connection, kind, record, *, actor, old, new):
    audit.record("psa.link", actor=actor, subject_user=record if kind == "user" else None,
                 field=audit_field(connection, f"{kind}.{record.id}"), old=old, new=new)


def suggestions_left(connection, *, kind):
    """How many of ours without a link have a suggestion (for the "link all" button)."""
    return db.session.scalar(select(func.count()).select_from(
        _suggested(connection, kind).subquery()))


def _suggested(connection, kind):
    """(our row, the suggested external id, its name) for each of ours not linked yet."""
    model, _, where = _ours(kind)
    ours, _ = _matching(kind)
    unique = _unique_lookups(kind, connection.id)
    linked = exists().where(PsaLink.connection_id == connection.id, PsaLink.kind == kind,
                            PsaLink.local_id == model.id)
    return (select(model, unique.c.external_id, PsaLookup.name)
            .join(unique, unique.c.key == ours)
            .join(PsaLookup, and_(PsaLookup.connection_id == connection.id,
                                  PsaLookup.kind == PSA_KIND[kind],
                                  PsaLookup.external_id == unique.c.external_id))
            .where(*where, ~linked))


def link_suggested(connection, *, kind, actor, limit=SUGGEST_LIMIT):
    """Link up to ``limit`` of ours that have no link to their suggestion; returns how many
    (a second call takes the next ones)."""
    made = 0
    for record, external_id, name in db.session.execute(
            _suggested(connection, kind).order_by(_ours(kind)[1][0][0]).limit(limit)).all():
        db.session.add(PsaLink(connection_id=connection.id, kind=kind, local_id=record.id,
                               external_id=external_id))
        _audit(connection, kind, record, actor=actor, old=None, new=f"{name} ({external_id})")
        made += 1
    db.session.commit()
    return made
