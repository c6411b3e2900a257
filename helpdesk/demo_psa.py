"""The demo's PSA connection: "Demo HaloPSA", to the demo HaloPSA that ``make run`` starts
beside the desk (``tests/halo_demo.py``, the tests' loopback HaloPSA run as a server).

``seed-demo`` connects it when it is told where that server is (``DEMO_HALOPSA_URL``, which
``make run`` sets), and only then. Everything goes through the services an admin's clicks
call: the connection is created (its secret sealed, a webhook secret made) and tested, the
lookups fetched, our statuses, priorities and categories mapped to Halo's by name, and the
organisations and subscribers linked to the clients and users an admin would be offered
("Link all suggested": the same name, the same email). A server that does not answer leaves
the connection made and its failed test on its page; the rest waits for the admin's
**Refresh** and mappings. A second seed (a database that has the demo) only puts the
connection in place again when it is missing or its server moved to another port.

Demo-only credentials: the demo HaloPSA accepts exactly these, and nothing real does.
"""

import redis

from helpdesk.extensions import db
from helpdesk.psa.connector import PsaError
from helpdesk.services import accounts, psa_account_links, psa_connections, psa_mappings
from helpdesk.services.psa_mappings import lookups_of

CONNECTION_NAME = "Demo HaloPSA"
CLIENT_ID = "demo-halopsa-client"
CLIENT_SECRET = "demo-halopsa-secret"  # noqa: S105 - the demo simulator's published secret
PULL_MINUTES = 1  # changes made in the demo Halo show within a minute or so
ADMIN_EMAIL = "admin@demo.test"

# Ours -> the name of the demo Halo's value (tests/halo_store.py's lookups).
STATUS_NAMES = {"open": "New", "in_progress": "In Progress", "waiting_on_customer": "With User",
                "waiting_on_vendor": "Action Required", "on_hold": "Action Required",
                "resolved": "Resolved", "closed": "Closed"}
PRIORITY_NAMES = {"urgent": "Critical", "high": "High", "normal": "Medium", "low": "Low"}
CATEGORY_TYPE = "Incident"  # every category, but requests:
REQUEST_CATEGORY, REQUEST_TYPE = "Request", "Service Request"
# What a new Service Request must carry in the demo Halo (its required field).
NEW_TICKET_FIELDS = {"CFAccountNumber": "DEMO-1000"}


def connect_demo_halopsa(url):
    """Put the demo's connection to the demo HaloPSA at ``url`` in place; returns a sentence
    saying what was done (for ``seed-demo`` to print)."""
    admin = accounts.find_user(ADMIN_EMAIL)
    url = url.rstrip("/")
    connection = psa_connections.find_connection(CONNECTION_NAME)
    if connection is not None:
        if connection.base_url == url:
            return f"{CONNECTION_NAME} is already connected to {url}."
        psa_connections.update_connection(
            connection, name=connection.name, base_url=url, auth_url=f"{url}/auth",
            client_id=connection.client_id, tenant=connection.tenant,
            request_budget=connection.request_budget, pull_minutes=connection.pull_minutes,
            actor=admin)
        return f"{CONNECTION_NAME} now points at {url}."
    connection = psa_connections.create_connection(
        name=CONNECTION_NAME, base_url=url, auth_url=f"{url}/auth", client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET, pull_minutes=PULL_MINUTES, actor=admin)
    result = psa_connections.check(connection)
    if not psa_connections.check_passed(connection):
        return (f"{CONNECTION_NAME} created, but {url} did not answer ({result}); "
                "its page says so: Test connection and Refresh its lookups once it runs.")
    try:
        psa_connections.refresh_lookups(connection, actor=admin)
    except (PsaError, redis.RedisError) as error:
        db.session.rollback()
        return (f"{CONNECTION_NAME} created, but its lookups could not be read ({error}): "
                "Refresh them on its page.")
    _map(connection, actor=admin)
    linked = {kind: psa_account_links.link_suggested(connection, kind=kind, actor=admin)
              for kind in ("organisation", "user")}
    return (f"{CONNECTION_NAME} connected to {url}: statuses, priorities and categories "
            f"mapped; {_count(linked['organisation'], 'organisation')} and "
            f"{_count(linked['user'], 'subscriber')} linked; pulled every minute.")


def _count(number, noun):
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _map(connection, *, actor):
    """Our values to the demo Halo's of the same meaning (found by name in the lookups)."""
    def by_name(kind):
        return {lookup.name: lookup.external_id for lookup in lookups_of(connection, kind)}

    statuses, priorities, types = (by_name(kind)
                                   for kind in ("status", "priority", "ticket_type"))
    categories = {}
    for ours, label in psa_mappings.ours_of("category"):
        wanted = REQUEST_TYPE if label == REQUEST_CATEGORY else CATEGORY_TYPE
        categories[ours] = types.get(wanted, "")
    chosen = {"status": {ours: statuses.get(name, "") for ours, name in STATUS_NAMES.items()},
              "priority": {ours: priorities.get(name, "")
                           for ours, name in PRIORITY_NAMES.items()},
              "category": categories}
    psa_mappings.set_mappings(connection, chosen=chosen, actor=actor)
    needed = {field.name for field in psa_mappings.required_fields(connection)}
    psa_mappings.set_new_ticket_fields(
        connection, actor=actor,
        values={name: value for name, value in NEW_TICKET_FIELDS.items() if name in needed})

