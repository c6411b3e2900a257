"""Resellers and organisations (subscriber companies): creating, renaming, moving an
organisation to another reseller, and who is its company admin.

Shared by the admin pages and the CLI; every change is audited (actor None from the CLI).
"""

from sqlalchemy import func, select, update

from helpdesk.extensions import db
from helpdesk.models import Organisation, Reseller, Ticket, User
from helpdesk.queues import enqueue
from helpdesk.services import audit, tallies
from helpdesk.services.accounts import AccountError

MAX_NAME_LENGTH = 200  # the columns' size


def find_reseller(name):
    """A reseller by name, case-insensitively, or None."""
    return db.session.scalar(
        select(Reseller).where(func.lower(Reseller.name) == (name or "").strip().lower()))


def find_organisation(name):
    """An organisation by name, case-insensitively, or None."""
    return db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == " ".join(
            (name or "").split()).lower()))


def all_resellers():
    """Every reseller by name."""
    return db.session.scalars(select(Reseller).order_by(Reseller.name)).all()


def all_organisations():
    """Every organisation by name."""
    return db.session.scalars(select(Organisation).order_by(Organisation.name)).all()


def _checked_name(name, kind, finder, *, thing=None):
    name = " ".join((name or "").split())
    if not name:
        raise AccountError(f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} needs a name.",
                           field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"A name can be at most {MAX_NAME_LENGTH} characters.", field="name")
    same = finder(name)
    if same is not None and same is not thing:
        raise AccountError(f"{'An' if kind[0] in 'aeiou' else 'A'} {kind} named {same.name} "
                           "already exists.", field="name")
    return name


def create_reseller(name, *, actor=None):
    """Create a reseller with a unique name."""
    reseller = Reseller(name=_checked_name(name, "reseller", find_reseller))
    db.session.add(reseller)
    audit.record("reseller.create", actor=actor, field="reseller", new=reseller.name)
    db.session.commit()
    return reseller


def rename_reseller(reseller, name, *, actor):
    """Give a reseller a new (unique) name."""
    name = _checked_name(name, "reseller", find_reseller, thing=reseller)
    if name != reseller.name:
        audit.record("reseller.rename", actor=actor, field="reseller", old=reseller.name,
                     new=name)
        reseller.name = name
        db.session.commit()
    return reseller


def create_organisation(name, *, reseller=None, actor=None):
    """Create an organisation, a customer of ``reseller`` or (None) of the operator."""
    organisation = Organisation(name=_checked_name(name, "organisation", find_organisation),
                                reseller=reseller)
    db.session.add(organisation)
    audit.record("organisation.create", actor=actor, field="organisation",
                 new=organisation.name)
    db.session.commit()
    return organisation


def rename_organisation(organisation, name, *, actor):
    """Give an organisation a new (unique) name."""
    name = _checked_name(name, "organisation", find_organisation, thing=organisation)
    if name != organisation.name:
        audit.record("organisation.rename", actor=actor, field="organisation",
                     old=organisation.name, new=name)
        organisation.name = name
        db.session.commit()
    return organisation


def change_reseller(organisation, reseller, *, actor):
    """Make ``organisation`` a customer of ``reseller`` (None: of the operator).

    Its people and its tickets move with it, so the new reseller sees them and the old one
    no longer does. The tickets move with one UPDATE and the queue's tallies with a few
    grouped statements (``tallies.move_organisation``), in this transaction: however many
    tickets the customer has, the move is a handful of statements. Returns how many live
    tickets moved.
    """
    old_id, new_id = organisation.reseller_id, getattr(reseller, "id", None)
    if old_id == new_id:
        return 0
    # The field names the organisation, as the log's sentence reads it ("changed the reseller
    # of Acme from North to South"); None is the operator.
    audit.record("organisation.reseller", actor=actor,
                 field=f"reseller of {organisation.name}"[:64],
                 old=organisation.reseller.name if organisation.reseller else None,
                 new=reseller.name if reseller else None)
    organisation.reseller = reseller
    db.session.flush()
    connection = db.session.connection()
    moved = connection.scalar(
        select(func.count()).select_from(Ticket)
        .where(Ticket.organisation_id == organisation.id, Ticket.deleted_at.is_(None)))
    tallies.move_organisation(connection, organisation.id, new_id)
    for table in (Ticket.__table__, User.__table__):
        connection.execute(update(table).where(table.c.organisation_id == organisation.id)
                           .values(reseller_id=new_id))
    db.session.commit()  # expires the session's copies of the moved rows
    # The reseller's SLA targets may differ: a worker recomputes the live clocks.
    enqueue("jobs.sla.recompute_clocks", 0, queue="automation")
    return moved


def people_of(organisation):
    """The organisation's people (company admins first), by name."""
    return db.session.scalars(
        select(User).where(User.organisation_id == organisation.id)
        .order_by(User.role != "company_admin", User.name, User.id)
    ).all()


def set_company_admin(user, *, company_admin, actor):
    """Make one of an organisation's people a company admin, or back a subscriber."""
    if user.organisation_id is None or user.role not in ("subscriber", "company_admin"):
        raise AccountError(f"{user.name} is not a customer of an organisation.")
    role = "company_admin" if company_admin else "subscriber"
    if role != user.role:
        audit.record("user.update", actor=actor, subject_user=user, field="role",
                     old=user.role, new=role)
        user.role = role
        db.session.commit()
    return user
