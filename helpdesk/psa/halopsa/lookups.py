"""HaloPSA's own lists (statuses, priorities, ticket types, clients, users, agents), read for
an admin to map to ours, and the fields each ticket type requires on a new ticket.

Clients and users are paged (``pageinate``, ``page_no``, ``page_size`` up to 100,
``record_count``); the other lists come whole. Priorities are known to tickets by
``priorityid`` (their ``id`` is another key). Required fields cost one request per ticket type
that says it has any (``hasmandatorytechfields``): its ``fields`` with ``includedetails``.
"""

from helpdesk.psa.connector import Lookup, Lookups
from helpdesk.psa.halopsa.payloads import our_id, records

PAGE_SIZE = 100  # Halo's largest page
# A ticket type field's ``technew``: how the field shows on an agent's new ticket
# (0 hidden, 1 shown, 2 mandatory).
MANDATORY_ON_NEW = 2


def _pages(api, path, key, params):
    """Every record of a paged list, page by page until ``record_count`` is reached."""
    found, page_no = [], 1
    while True:
        answer = api.get(path, params={**params, "pageinate": "true", "page_no": page_no,
                                       "page_size": PAGE_SIZE})
        page = records(answer, key)
        found.extend(page)
        total = answer.get("record_count") if isinstance(answer, dict) else None
        if len(page) < PAGE_SIZE or (total is not None and len(found) >= total):
            return found
        page_no += 1


def _lookup(item, *, id_field="id", **extra):
    """One ``Lookup`` from a record, with ``extra`` fields read from it."""
    values = {name: item.get(field) for name, field in extra.items()}
    return Lookup(external_id=str(item.get(id_field, item.get("id"))),
                  name=str(item.get("name") or ""),
                  extra={name: value for name, value in values.items() if value is not None})


def _required_fields(api, ticket_type):
    """[(field, label)] a new ticket of ``ticket_type`` must fill in."""
    detail = api.get(f"/TicketType/{ticket_type['id']}", params={"includedetails": "true"},
                     missing_ok=True) or {}
    required = []
    for field in detail.get("fields") or []:
        if field.get("technew") != MANDATORY_ON_NEW:
            continue
        info = field.get("fieldinfo") or {}
        name = info.get("name") or field.get("fieldname")
        if name:
            required.append((name, info.get("label") or field.get("fieldname") or name))
    return required


def fetch_lookups(api):
    """``Lookups`` read from the instance behind ``api`` (a ``HaloApi``)."""
    ticket_types = records(api.get("/TicketType"), "tickettypes")
    users = _pages(api, "/Users", "users", {"includeactive": "true"})
    return Lookups(
        statuses=[_lookup(item, type="type") for item in records(api.get("/Status"), "status")],
        priorities=[_lookup(item, id_field="priorityid")
                    for item in records(api.get("/Priority"), "priority")],
        ticket_types=[_lookup(item) for item in ticket_types],
        clients=[_lookup(item) for item in
                 _pages(api, "/Client", "clients", {"includeactive": "true"})],
        users=[Lookup(external_id=str(item["id"]), name=str(item.get("name") or ""),
                      extra={"client_id": our_id(item.get("client_id")),
                             "email": item.get("emailaddress") or None})
               for item in users],
        agents=[_lookup(item, email="email") for item in records(api.get("/Agent"), "agents")],
        required_fields={str(item["id"]): _required_fields(api, item)
                         for item in ticket_types if item.get("hasmandatorytechfields")},
    )
