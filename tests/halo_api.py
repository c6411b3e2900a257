"""The loopback HaloPSA's API routes: ``answer`` turns one request into Halo's answer.

Paths as the real API takes them (``/api/Tickets``; case does not matter, as in ASP.NET).
Write bodies are Halo's arrays and are checked against the vendor's schemas first
(``halo_schema``): what the schema forbids is answered 400 in ASP.NET's validation shape, and
kept in ``rejected`` for tests to show (``check_bodies=False``, as the demo of ``make run``
runs it without the test requirements, checks only that a body is a list of objects).
Answers for one written item are the item; for more, the list. Lists come bare (statuses,
priorities, ticket types, agents) or under a key with ``record_count`` (tickets, actions,
attachments, clients, users), as Halo's do. One attachment's ``GET`` answers the file itself
(``RawFile``).
"""

import re
from dataclasses import dataclass

from tests.halo_store import MAX_PAGE_SIZE, Refused

WRITE_SCHEMAS = {"tickets": "Faults", "actions": "Actions", "attachment": "Attachment"}


@dataclass(frozen=True)
class RawFile:
    """An answer that is a file, not JSON: ``GET /api/Attachment/{id}`` without
    ``includedetails`` sends the attachment itself (with ``includedetails=true``, its
    record). The vendor's description documents no answers; a file download is what Halo's
    API gives and what the adapter reads (it also takes a record with ``data_base64``)."""

    data: bytes
    content_type: str
    filename: str


def _validated(resource, body, rejected, *, check_bodies=True):
    """The body's items, or ``Refused`` 400 with what the vendor's schema says is wrong."""
    if check_bodies:
        from tests.halo_schema import body_errors  # jsonschema: a test requirement

        errors = body_errors(WRITE_SCHEMAS[resource], body)
    elif not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        errors = {"$": ["The request body must be an array of objects."]}
    else:
        errors = {}
    if errors:
        rejected.append((resource, body, errors))
        raise Refused(400, {"type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                            "title": "One or more validation errors occurred.",
                            "status": 400, "errors": errors})
    if not body:
        raise Refused(400, {"message": "The request body holds no items"})
    return body


def _one_or_many(items):
    return items[0] if len(items) == 1 else items


def _paged(records, key, query):
    """A list answer under ``key``, paged when ``pageinate=true``."""
    answer = {"record_count": len(records)}
    if query.get("pageinate", "").lower() == "true":
        try:
            page_size, page_no = int(query.get("page_size", 50)), int(query.get("page_no", 1))
        except ValueError:
            raise Refused(400, {"message": "page_size and page_no are whole numbers"}) from None
        if not 0 < page_size <= MAX_PAGE_SIZE or page_no < 1:
            raise Refused(400, {"message": "page_size must be 1-100, page_no at least 1"})
        records = records[(page_no - 1) * page_size: page_no * page_size]
        answer.update(page_no=page_no, page_size=page_size)
    answer[key] = records
    return answer


def _ticket_id(query):
    try:
        return int(query.get("ticket_id", ""))
    except ValueError:
        raise Refused(400, {"message": "ticket_id is required"}) from None


def _get(store, resource, record_id, query):
    """The answer to a GET of ``resource`` (and maybe one record of it)."""
    if resource == "tickets":
        return store.ticket(record_id) if record_id else store.list_tickets(query)
    if resource == "actions":
        if record_id:
            return store.actions.get(record_id) or _missing("Action", record_id)
        actions = store.actions_of(_ticket_id(query))
        if query.get("excludeprivate", "").lower() == "true":
            actions = [action for action in actions if not action["hiddenfromuser"]]
        return {"record_count": len(actions), "actions": actions}
    if resource == "attachment":
        if record_id:
            record, data = store.attachment(record_id)
            if query.get("includedetails", "").lower() == "true":
                return record
            return RawFile(data, record.get("content_type") or "application/octet-stream",
                           record.get("filename") or f"attachment-{record_id}")
        action_id = query.get("action_id")
        attachments = store.attachments_of(_ticket_id(query), action_id=int(action_id)
                                           if action_id and action_id.isdigit() else None)
        return {"record_count": len(attachments), "attachments": attachments}
    if resource == "tickettype":
        if record_id:
            return store.ticket_type(record_id)
        return [{key: value for key, value in item.items() if key != "fields"}
                for item in store.ticket_types]
    if resource == "tickettypefield" and not record_id:
        return [field for item in store.ticket_types for field in item["fields"]]
    simple = {"status": store.statuses, "priority": store.priorities, "agent": store.agents}
    if resource in simple and not record_id:
        return simple[resource]
    if resource == "client" and not record_id:
        return _paged(store.clients, "clients", query)
    if resource == "users" and not record_id:
        users = store.users
        if query.get("client_id"):
            users = [user for user in users if str(user["client_id"]) == query["client_id"]]
        return _paged(users, "users", query)
    raise Refused(404, None)


def _missing(what, record_id):
    raise Refused(404, f"{what} {record_id} not found")


_PATH = re.compile(r"^/api/([a-z]+)(?:/(\d+))?/?$")


def answer(store, method, path, query, body, *, rejected, check_bodies=True):
    """(status, payload) for one API request; ``Refused`` for Halo's refusals."""
    match = _PATH.match(path.lower())
    if not match:
        raise Refused(404, None)
    resource, record_id = match.group(1), int(match.group(2) or 0)
    if method == "GET":
        return 200, _get(store, resource, record_id, query)
    if method == "POST" and resource in WRITE_SCHEMAS and not record_id:
        items = _validated(resource, body, rejected, check_bodies=check_bodies)
        save = {"tickets": store.save_tickets, "actions": store.save_actions,
                "attachment": store.save_attachments}[resource]
        return 200, _one_or_many(save(items))
    raise Refused(405, {"message": f"The requested resource does not support {method}"})
