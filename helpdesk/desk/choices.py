"""The queue's choices: the categories, the staff and (for staff) the teams to filter by, and
the user's saved views, read once and kept until one of them changes; and the filter form drawn
from them.

They change seldom (an admin adds a category or a team, someone is renamed or disabled, an agent
saves a view), and reading them was a sixth of the queue page's time. So each process keeps the
lists it read, under a token that Redis holds: every commit that added, changed or deleted a
category, a team or a saved view, added or deleted a user, or changed a user's name, role or
disabled state (an ORM flush, or an ``UPDATE``/``DELETE`` run through the session) puts a
new random token there, and a process whose lists were read under another
token reads them again. A token is never reused, so Redis losing its data (a restart, a
``FLUSHDB``) only means reading the lists again. Without Redis nothing is kept, and nothing
kept is older than ``KEPT_SECONDS`` whatever happens (a change made in SQL by hand).

The filter form shows nothing but the filters asked for, those lists and the page's path, so
``filter_form`` keeps it drawn by exactly those: the next visit to the same view is not drawn
again, and a change to any of them is a new key.
"""

import time
import uuid
from urllib.parse import urlencode

from flask import current_app, has_app_context, render_template, request
from markupsafe import Markup
from redis.exceptions import RedisError
from sqlalchemy import Integer, Text, cast, event, inspect, literal, null, select, union_all
from sqlalchemy.orm import Session

from helpdesk.desk.queue_filters import AGES, SORTS
from helpdesk.extensions import db
from helpdesk.models import (
    PRIORITIES,
    STATUSES,
    Category,
    Organisation,
    Reseller,
    SavedView,
    Team,
    User,
)
from helpdesk.models.ticket import SLA_STATES
from helpdesk.queues import get_redis

REDIS_KEY = "helpdesk:queue-choices"
KEPT_SECONDS = 300
KEPT_USERS = 1000  # per process: one entry per person who opened the queue
TRACKED = (Category, Organisation, Reseller, User, SavedView, Team)
USER_SHOWN = ("name", "role", "disabled_at", "reseller_id")  # what the lists read of a user
CHANGED = "helpdesk_queue_choices_changed"  # in a session's ``info`` until it commits

FILTER_TEMPLATE = "desk/_filters.html"
FORMS_KEPT = 1000  # per process: distinct views of the queue; when full, they start over

_kept = {}  # user id -> (token, read at, lists)
_forms = {}  # (template, path, filters, token, scope) -> the form's HTML
_seen = {"token": None, "at": 0.0}  # the token last read from Redis here, and when


def queue_choices(user):
    """``{"categories", "staff", "people", "teams", "saved_views"}``: plain rows with ``id`` and
    ``name`` (a view also its ``query``; ``teams`` only for staff, the one role that filters
    by them), from what this process kept when it is current; and the
    ``token`` they were read under (None without Redis)."""
    token = _token()
    kept = _kept.get(user.id)
    if token is not None and kept is not None and kept[0] == token \
            and time.monotonic() - kept[1] < KEPT_SECONDS:
        return kept[2]
    # Whose reseller users the lists hold: part of the filter form's key, so one reseller's
    # people are never shown to another's.
    lists = _read(user) | {"token": token, "scope": "staff" if user.is_staff else user.reseller_id}
    if token is not None:
        if len(_kept) >= KEPT_USERS:
            _kept.clear()
        _kept[user.id] = (token, time.monotonic(), lists)
    return lists


def filter_form(filters, choices):
    """The queue's filter form for ``filters`` with the ``choices`` of ``queue_choices``
    (kept under their token; without one, drawn every time)."""
    template = current_app.jinja_env.get_template(FILTER_TEMPLATE)
    key = (template, request.path, tuple(filters.query_args()), choices["token"],
           choices["scope"])
    html = _forms.get(key) if choices["token"] is not None else None
    if html is None:
        html = Markup(render_template(  # noqa: S704 - our template's output, escaped by Jinja
            FILTER_TEMPLATE, filters=filters, categories=choices["categories"],
            staff=choices["staff"], people=choices["people"], teams=choices["teams"],
            statuses=STATUSES,
            priorities=PRIORITIES, sorts=SORTS, ages=AGES, sla_states=SLA_STATES,
            narrowing=_narrowing(filters, choices["scope"])))
        if choices["token"] is not None:
            if len(_forms) >= FORMS_KEPT:
                _forms.clear()
            _forms[key] = html
    return html


NARROWING = (("customer", "Customer", User), ("organisation", "Organisation", Organisation),
             ("reseller", "Reseller", Reseller))


def _narrowing(filters, scope):
    """The queue narrowed to one customer, organisation or reseller, as removable chips:
    ``(label, name, the query without it)``. A name shows only within the viewer's scope
    (``"staff"``, or a reseller user's reseller id); anything else shows as its number."""
    chips = []
    for key, label, model in NARROWING:
        chosen = getattr(filters, key)
        if chosen is None:
            continue
        found = db.session.get(model, chosen)
        owner = chosen if model is Reseller else getattr(found, "reseller_id", None)
        shown = found.name if found is not None and scope in ("staff", owner) else f"#{chosen}"
        chips.append((label, shown, urlencode(filters.query_args(**{key: None}))))
    return chips


def _read(user):
    """The lists in one statement (small rows, one round trip). ``people`` are the reseller
    users who can be assigned tickets the viewer sees (all of them for staff, the viewer's
    own reseller's for a reseller user), each with the reseller's name in ``query``; the
    teams for staff only."""
    nothing = cast(null(), Text)
    people = (User.role == "reseller") & (User.disabled_at.is_(None))
    if not user.is_staff:
        people = people & (User.reseller_id == user.reseller_id)
    teams = [select(literal("teams"), Team.id, Team.name, nothing, cast(null(), Integer))]
    statement = union_all(
        select(literal("categories").label("kind"), Category.id, Category.name,
               nothing.label("query"), Category.position.label("position")),
        select(literal("staff"), User.id, User.name, nothing, cast(null(), Integer)).where(
            User.role.in_(("agent", "admin")), User.disabled_at.is_(None)),
        select(literal("people"), User.id, User.name, Reseller.name, cast(null(), Integer))
        .join(Reseller, Reseller.id == User.reseller_id).where(people),
        *(teams if user.is_staff else []),
        select(literal("saved_views"), SavedView.id, SavedView.name, SavedView.query,
               cast(null(), Integer)).where(SavedView.user_id == user.id),
    ).order_by("kind", "position", "name")
    lists = {"categories": [], "staff": [], "people": [], "teams": [], "saved_views": []}
    for row in db.session.execute(statement):
        lists[row.kind].append(row)
    lists["people"].sort(key=lambda row: (row.query, row.name))
    return lists


def _token():
    """Redis's current token (one made now if it has none), or None without Redis.

    Each process asks Redis at most once per ``QUEUE_CHOICES_CHECK_SECONDS``: a change made
    by another process shows here within that time, one made here at once (the token this
    process writes is the one it keeps).
    """
    interval = current_app.config["QUEUE_CHOICES_CHECK_SECONDS"]
    now = time.monotonic()
    if _seen["token"] is not None and now - _seen["at"] < interval:
        return _seen["token"]
    try:
        redis = get_redis()
        token = redis.get(REDIS_KEY)
        if token is None:
            redis.set(REDIS_KEY, uuid.uuid4().hex, nx=True)
            token = redis.get(REDIS_KEY)
    except RedisError as error:
        current_app.logger.warning("queue choices read without Redis: %s", error)
        _seen.update(token=None, at=now)
        return None
    _seen.update(token=token, at=now)
    return token


@event.listens_for(Session, "after_flush")
def _note_flushed_changes(session, _flush_context):
    if any(isinstance(thing, TRACKED) for thing in (*session.new, *session.deleted)) \
            or any(_shown_change(thing) for thing in session.dirty):
        session.info[CHANGED] = True


def _shown_change(thing):
    """Whether a changed object changed what the lists show (a sign-in's last-login time,
    written on every sign-in, is not such a change)."""
    if isinstance(thing, User):
        state = inspect(thing)
        return any(state.attrs[name].history.has_changes() for name in USER_SHOWN)
    return isinstance(thing, TRACKED)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(execute_state):
    if (execute_state.is_update or execute_state.is_delete or execute_state.is_insert) \
            and execute_state.bind_mapper is not None \
            and issubclass(execute_state.bind_mapper.class_, TRACKED):
        execute_state.session.info[CHANGED] = True


@event.listens_for(Session, "after_commit")
def _new_token_after_a_change(session):
    if not session.info.pop(CHANGED, False) or not has_app_context():
        return
    token = uuid.uuid4().hex.encode()
    _seen.update(token=None, at=0.0)  # Redis or not, this process reads the token again
    try:
        get_redis().set(REDIS_KEY, token)
        _seen.update(token=token, at=time.monotonic())
    except RedisError as error:  # what was kept ages out after KEPT_SECONDS
        current_app.logger.warning("queue choices not renewed: %s", error)


@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop(CHANGED, None)
