"""Our connector types to HaloPSA's JSON and back.

Bodies hold only properties of the vendor's schemas (``Faults``, ``Actions``, ``Attachment``
in its OpenAPI description, which forbids any other): the tests' loopback server checks each
one. Ids are strings on our side and int32 on Halo's. Halo writes times as UTC without a
zone (``2026-11-24T09:30:00.123``); we read a time without a zone as UTC and write ours so.
"""

import base64
import json
from datetime import UTC, datetime

from helpdesk.psa.connector import PsaError, RemoteAction, RemoteAttachment, RemoteTicket
from helpdesk.psa.halopsa.markers import marker_in, note_with_marker, reference, without_marker
from helpdesk.psa.halopsa.system_actions import is_system_action

INT32_MAX = 2**31 - 1


def halo_id(value, *, what):
    """``value`` (our string id of a Halo record) as Halo's int32, or a refusal."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = None
    if number is None or not 0 < number <= INT32_MAX:
        raise PsaError(f"{what} {value!r} is not a HaloPSA id (a positive whole number)",
                       transient=False)
    return number


def our_id(value):
    """Halo's id as our string; None for a missing id (Halo writes 0 or -1 for "none")."""
    if value in (None, "", 0, -1, "0", "-1"):
        return None
    return str(value)


def halo_time(moment):
    """An aware datetime as Halo writes times: UTC, milliseconds, no zone."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def parse_time(text):
    """A time Halo wrote, as an aware UTC datetime (None if there is none)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _optional_ids(item, fields):
    """Set each of ``fields`` ({halo field: (our value, what)}) that has a value."""
    for field, (value, what) in fields.items():
        if value is not None:
            item[field] = halo_id(value, what=what)


def _extra_fields(item, extra_fields):
    """Fields an admin filled in for the ticket type: Halo's own at the top, ``CF...`` ones
    (Halo names every custom field so) in ``customfields``."""
    custom = []
    for name, value in extra_fields.items():
        if name.lower().startswith("cf"):
            custom.append({"name": name, "value": value})
        else:
            item[name] = value
    if custom:
        item["customfields"] = custom


def new_ticket(draft):
    """A ``Faults`` item creating the ticket of ``draft`` (our marker in
    ``third_party_id_string``; ``third_party_id`` is Halo's int32 and left alone)."""
    item = {"summary": draft.summary, "details_html": draft.details_html,
            "client_id": halo_id(draft.client_id, what="client"),
            "third_party_id_string": draft.marker}
    _optional_ids(item, {"user_id": (draft.user_id, "user"),
                         "status_id": (draft.status_id, "status"),
                         "priority_id": (draft.priority_id, "priority"),
                         "tickettype_id": (draft.ticket_type_id, "ticket type")})
    if draft.category is not None:
        item["category_1"] = draft.category
    _extra_fields(item, draft.extra_fields)
    return item


def ticket_changes(external_id, changes):
    """A ``Faults`` item changing only the fields ``changes`` names (an ``id`` updates)."""
    item = {"id": halo_id(external_id, what="ticket")}
    _optional_ids(item, {"status_id": (changes.status_id, "status"),
                         "priority_id": (changes.priority_id, "priority"),
                         "agent_id": (changes.agent_id, "agent")})
    if changes.summary is not None:
        item["summary"] = changes.summary
    if changes.category is not None:
        item["category_1"] = changes.category
    return item


def new_action(ticket_external_id, draft):
    """An ``Actions`` item: a reply, an internal note (``hiddenfromuser``), time
    (``timetaken``, hours) and maybe a new status; our marker ends the note."""
    item = {"ticket_id": halo_id(ticket_external_id, what="ticket"),
            "outcome": "Private Note" if draft.internal else "Note",
            "note_html": note_with_marker(draft.note_html, draft.marker),
            "hiddenfromuser": bool(draft.internal)}
    if draft.minutes:
        item["timetaken"] = round(draft.minutes / 60, 4)
    if draft.who:
        item["third_party_who"] = draft.who
    if draft.status_id is not None:
        item["new_status"] = halo_id(draft.status_id, what="status")
    return item


def new_attachment(ticket_external_id, draft):
    """An ``Attachment`` item: the file as ``data_base64``, our marker as its ``note``; with
    its action (``action_id``) when known, and kept from the end user (``showforusers``
    false) when it is an internal note's."""
    item = {"ticket_id": halo_id(ticket_external_id, what="ticket"),
            "filename": draft.filename, "content_type": draft.content_type,
            "note": reference(draft.marker),
            "data_base64": base64.b64encode(draft.content).decode("ascii")}
    if draft.action_external_id is not None:
        item["action_id"] = halo_id(draft.action_external_id, what="action")
    if draft.internal:
        item["showforusers"] = False
    return item


def created_id(answer, *, what):
    """The id Halo gave what it created (it answers the object, or a list of one)."""
    item = answer[0] if isinstance(answer, list) and answer else answer
    created = our_id(item.get("id")) if isinstance(item, dict) else None
    if created is None:
        raise PsaError(f"HaloPSA created the {what} but its answer holds no id",
                       transient=False)
    return created


def records(answer, key):
    """The records of a list answer: bare (``[...]``) or under ``key`` (``{"tickets": [...]}``)."""
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict):
        return answer.get(key) or []
    return []


def remote_action(item):
    """A ``RemoteAction`` from one of Halo's actions (our marker parsed out of its note)."""
    note_html = item.get("note_html") or item.get("note") or ""
    try:
        hours = float(item.get("timetaken") or 0)
    except (TypeError, ValueError):
        hours = 0.0
    return RemoteAction(
        external_id=str(item["id"]), ticket_external_id=str(item.get("ticket_id")),
        note_html=without_marker(note_html), internal=bool(item.get("hiddenfromuser")),
        minutes=round(hours * 60), who=item.get("who") or None,
        created_at=parse_time(item.get("datetime") or item.get("actiondatecreated")),
        marker=marker_in(item.get("note_html"), item.get("note")),
        system=is_system_action(item), raw=item)


def remote_attachment(item, *, hidden_actions=frozenset()):
    """A ``RemoteAttachment`` from one of Halo's listed files. It is kept from the end user
    when Halo keeps it so: ``showforusers`` false, or added with a hidden action
    (``hidden_actions``: the ids of the ticket's hidden actions)."""
    action_id = our_id(item.get("action_id"))
    try:
        size = int(item["filesize"]) if item.get("filesize") is not None else None
    except (TypeError, ValueError):
        size = None
    return RemoteAttachment(
        external_id=str(item["id"]), filename=item.get("filename") or f"attachment-{item['id']}",
        size=size, marker=marker_in(note=item.get("note")), action_external_id=action_id,
        internal=item.get("showforusers") is False or action_id in hidden_actions,
        content_type=item.get("content_type") or None, raw=item)


def remote_ticket(item, *, base_url, actions=(), attachments=()):
    """A ``RemoteTicket`` from one of Halo's tickets, with a link to its page in Halo."""
    external_id = str(item["id"])
    url = item.get("web_url") or f"{base_url.rstrip('/')}/ticket?id={external_id}"
    return RemoteTicket(
        external_id=external_id, summary=item.get("summary") or "",
        details_html=item.get("details_html") or item.get("details") or "",
        status_id=our_id(item.get("status_id")), priority_id=our_id(item.get("priority_id")),
        ticket_type_id=our_id(item.get("tickettype_id")),
        client_id=our_id(item.get("client_id")), user_id=our_id(item.get("user_id")),
        agent_id=our_id(item.get("agent_id")), category=item.get("category_1") or None,
        updated_at=parse_time(item.get("last_update")),
        created_at=parse_time(item.get("dateoccurred") or item.get("datecreated")),
        marker=item.get("third_party_id_string") or None, url=url,
        actions=list(actions), attachments=list(attachments), raw=item)


def file_content(external_id, content_type, body):
    """A file's bytes from Halo's answer to ``GET /api/Attachment/{id}``: the file itself
    (what Halo sends), or, should an instance answer with the attachment's record instead,
    the file in its ``data_base64``. A record without it is refused: it is not the file."""
    record = None
    if (content_type or "").split(";")[0].strip().lower() == "application/json":
        try:
            record = json.loads(body)
        except ValueError:
            record = None
    if not isinstance(record, dict) or str(record.get("id")) != str(external_id):
        return body  # the file itself (a JSON file too)
    try:
        data = base64.b64decode(record.get("data_base64") or "", validate=True)
    except ValueError:
        data = b""
    if not data:
        raise PsaError(f"HaloPSA answered attachment {external_id}'s record without its "
                       "content (data_base64)", transient=False)
    return data
