"""The audit log in the help desk's words: each entry as one sentence.

"Sam Agent changed status from Open to Waiting on customer on TKT-1042", "Ada Admin disabled
Bob South", "Someone failed to sign in as bob@south.demo.test". People and tickets are links
(a person's to their entries in the log, a ticket's to the ticket); everything typed by
someone (names, subjects, emails) is escaped.
"""

from flask import url_for
from markupsafe import Markup

from helpdesk.admin.forms import ROLE_LABELS
from helpdesk.admin.psa_sentences import psa_predicate
from helpdesk.models.ticket import number_prefix
from helpdesk.services.notification_preferences import EVENT_LABELS
from helpdesk.services.psa_dead_letters import KIND_LABELS as PSA_KIND_LABELS
from helpdesk.template_filters import status_label


def _person(user):
    if user is None:
        return Markup('<span class="muted" title="the command line or a background job">'
                      "The system</span>")
    return Markup('<a href="{}">{}</a>').format(url_for("admin.audit", user=user.email),
                                                user.name)


def _ticket(entry):
    if entry.ticket_id is None:
        return Markup("")
    return Markup('<a href="{}">{}{}</a>').format(
        url_for("desk.ticket", ticket_id=entry.ticket_id), number_prefix(), entry.ticket_id)


def _value(text, field=None):
    if text is None or text == "":
        return Markup("<em>none</em>")
    if field == "status":
        text = status_label(text)
    elif field == "role":
        text = ROLE_LABELS.get(text, text)
    elif field == "priority":
        text = text.capitalize()
    return Markup("<strong>{}</strong>").format(text)


def _them(entry):
    """The person the entry is about, or "their own" words when they did it themselves."""
    return _person(entry.subject_user)


def _self(entry):
    return entry.subject_user_id is not None and entry.subject_user_id == entry.actor_id


TICKET_PHRASES = {
    "ticket.open": lambda e, t: Markup('opened {} "{}"').format(t, e.new_value or ""),
    "ticket.delete": lambda e, t: Markup("deleted {}").format(t),
    "reply.public": lambda e, t: Markup("replied on {}").format(t),
    "reply.internal_note": lambda e, t: Markup("wrote an internal note on {}").format(t),
    "ticket.rating": lambda e, t: Markup("rated {} {} out of 5").format(t, e.new_value),
    "ticket.time_entry": lambda e, t: Markup("logged {} minutes on {}").format(e.new_value, t),
    "attachment.add": lambda e, t: Markup("attached {} to {}").format(_value(e.new_value), t),
    "ticket.handoff": lambda e, t: Markup("handed {} over to {}").format(t, _them(e)),
    "ticket.routing": lambda e, t: Markup("routed {} by the rule {}: {}").format(
        t, _value(e.old_value), e.new_value.split(": ", 1)[-1] if e.new_value else ""),
    "ticket.assignment": lambda e, t: (
        Markup("unassigned {} (was {})").format(t, _value(e.old_value)) if not e.new_value
        else Markup("assigned {} to {}").format(t, _value(e.new_value))),
    "ticket.team": lambda e, t: (
        Markup("took {} off team {}").format(t, _value(e.old_value)) if not e.new_value
        else Markup("moved {} to team {} (was {})").format(t, _value(e.new_value),
                                                           _value(e.old_value))),
    # SLA (helpdesk/sla): states and escalations by the sweep, notices to people.
    "ticket.sla": lambda e, t: Markup("marked {} SLA {}").format(
        t, _value((e.new_value or "").replace("_", " "))),
    "ticket.escalation": lambda e, t: Markup("escalated {}: {}").format(t, e.new_value),
    "sla.notify": lambda e, t: Markup("told {} about {} ({})").format(
        _value(e.new_value), t, e.field),
    # PSA push (services.psa_push, services.psa_dead_letters): each attempt with its request.
    "psa.write": lambda e, t: Markup("sent the {} of {} to {}{}").format(
        _psa_kind(e.field), t, e.new_value or "", _payload(e.old_value)),
    "psa.retry": lambda e, t: Markup("retried the PSA write {} of {}").format(
        _value(e.old_value), t),
    "psa.discard": lambda e, t: Markup("discarded the PSA write {} of {}: “{}”").format(
        _value(e.old_value), t, e.new_value or ""),
    # PSA pull (services.psa_pull_fields): both sides changed a field; the later one won.
    "psa.kept_ours": lambda e, t: Markup(
        "kept the desk's {} {} on {} over the PSA's earlier {}").format(
        e.field, _value(e.old_value, e.field), t, _value(e.new_value, e.field)),
    "psa.took_theirs": lambda e, t: Markup(
        "took the PSA's {} {} on {} over the desk's earlier {}").format(
        e.field, _value(e.new_value, e.field), t, _value(e.old_value, e.field)),
    "ticket.subscriber": lambda e, t: Markup("moved {} from {} to {}").format(
        t, _value(e.old_value), _value(e.new_value)),
}


def _psa_kind(kind):
    """An outbox row's kind in words (``add_action``: reply or note)."""
    return PSA_KIND_LABELS.get(kind, kind or "write")


def _payload(text):
    """The request an attempt sent, folded away until an admin opens it."""
    if not text:
        return Markup("")
    return Markup(' <details class="audit-payload"><summary>request</summary><pre>{}</pre>'
                  "</details>").format(text)

ACCOUNT_PHRASES = {
    "user.login": lambda e: Markup("signed in"),
    "user.logout": lambda e: Markup("signed out"),
    "user.login_failed": lambda e: Markup("failed to sign in as {}").format(
        _value(e.new_value)),
    "user.sign_out": lambda e: (
        Markup("ended one of their sign-ins ({})") if _self(e)
        else Markup("ended a sign-in of {} ({{}})").format(_them(e))).format(e.old_value),
    "user.sign_out_everywhere": lambda e: (
        Markup("signed out everywhere ({})").format(e.new_value) if _self(e)
        else Markup("signed {} out everywhere ({})").format(_them(e), e.new_value)),
    "user.disable": lambda e: Markup("disabled {}").format(_them(e)),
    "user.enable": lambda e: Markup("enabled {}").format(_them(e)),
    "user.create": lambda e: Markup("created {} as {}").format(
        _them(e), _value(e.new_value, "role")),
    "user.password_change": lambda e: Markup("changed their password ({})").format(
        e.new_value),
    "user.password_reset": lambda e: Markup(
        "set a new password through a mailed link ({})").format(e.new_value),
    "user.password_reset_link": lambda e: Markup("mailed {} a link to {}").format(
        _them(e), "set their password" if e.new_value == "set_password"
        else "reset their password"),
    "user.notification_channels": lambda e: Markup(
        "changed {} notifications “{}” from {} to {}").format(
        Markup("their") if _self(e) else Markup("{}'s").format(_them(e)),
        EVENT_LABELS.get(e.field, e.field), _value(e.old_value), _value(e.new_value)),
    "api_token.create": lambda e: (
        Markup("made an API token {}") if _self(e)
        else Markup("made an API token {{}} for {}").format(_them(e))).format(
        _value(e.new_value)),
    "api_token.revoke": lambda e: (
        Markup("revoked their API token {}") if _self(e)
        else Markup("revoked {}'s API token {{}}").format(_them(e))).format(
        _value(e.old_value)),
    "category.add": lambda e: Markup("added the category {}").format(_value(e.new_value)),
    "category.rename": lambda e: Markup("renamed the category {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "category.move": lambda e: Markup("moved the category {} {}").format(
        _value(e.old_value), e.new_value),
    "category.retire": lambda e: Markup("retired the category {}").format(
        _value(e.new_value)),
    "category.restore": lambda e: Markup("restored the category {}").format(
        _value(e.new_value)),
    "team.create": lambda e: Markup("created the team {}").format(_value(e.new_value)),
    "team.rename": lambda e: Markup("renamed the team {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "team.add_member": lambda e: Markup("added {} to the team {}").format(
        _them(e), _value(e.new_value)),
    "team.remove_member": lambda e: Markup("took {} out of the team {}").format(
        _them(e), _value(e.old_value)),
    # Webhooks out (services.webhook_settings); the field is the webhook's name.
    "webhook.create": lambda e: Markup("set up the webhook {} to {}").format(
        _value(e.field), e.new_value or ""),
    "webhook.update": lambda e: Markup("changed the webhook {} from {} to {}").format(
        _value(e.field), e.old_value or "", e.new_value or ""),
    "webhook.secret": lambda e: Markup("made a new signing secret for the webhook {}").format(
        _value(e.field)),
    "webhook.delete": lambda e: Markup("removed the webhook {} ({})").format(
        _value(e.field), e.old_value or ""),
    "webhook.send_again": lambda e: Markup("sent the webhook {}'s delivery {} again").format(
        _value(e.field), e.new_value or ""),
    "routing_rule.add": lambda e: Markup("added the routing rule {}").format(
        _value(e.new_value)),
    "routing_rule.change": lambda e: Markup("changed the routing rule {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "routing_rule.move": lambda e: Markup("moved the routing rule {} {}").format(
        _value(e.old_value), e.new_value),
    "routing_rule.enable": lambda e: Markup("enabled the routing rule {}").format(
        _value(e.new_value)),
    "routing_rule.disable": lambda e: Markup("disabled the routing rule {}").format(
        _value(e.new_value)),
    "routing_rule.delete": lambda e: Markup("deleted the routing rule {}").format(
        _value(e.old_value)),
    "reseller.create": lambda e: Markup("created the reseller {}").format(
        _value(e.new_value)),
    "reseller.rename": lambda e: Markup("renamed the reseller {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "organisation.create": lambda e: Markup("created the organisation {}").format(
        _value(e.new_value)),
    "organisation.rename": lambda e: Markup("renamed the organisation {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "psa.pull_now": lambda e: Markup("asked for a pull from the PSA connection {}").format(
        _value(e.new_value)),
    "mail.retry": lambda e: Markup("retried incoming message {}").format(e.new_value),
    "mail.discard": lambda e: Markup("discarded incoming message {}").format(e.new_value),
    "job.retry": lambda e: Markup("retried job {}").format(e.new_value),
    "job.discard": lambda e: Markup("discarded job {}").format(e.new_value),
    "job.retry_all": lambda e: Markup("retried every failed job of {} ({})").format(
        e.field, e.new_value),
    "job.discard_all": lambda e: Markup("discarded every failed job of {} ({})").format(
        e.field, e.new_value),
    "sla.calendar": lambda e: Markup("changed the SLA business hours from {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "sla.targets": lambda e: Markup("changed the SLA targets of {} from {} to {}").format(
        e.field, _value(e.old_value), _value(e.new_value)),
    "sla.escalation": lambda e: Markup("changed the SLA escalation levels from {} to {}").format(
        _value(e.old_value), _value(e.new_value)),
    "organisation.reseller": lambda e: Markup("changed the {} from {} to {}").format(
        e.field, _value(e.old_value or "the operator"), _value(e.new_value or "the operator")),
}


def _user_update(entry):
    field = {"organisation": "organisation", "permissions": "reseller permissions"}.get(
        entry.field, entry.field)
    return Markup("changed {}'s {} from {} to {}").format(
        _them(entry), field, _value(entry.old_value, entry.field),
        _value(entry.new_value, entry.field))


def _predicate(entry):
    """What was done: the sentence after its actor."""
    ticket = _ticket(entry)
    if entry.action in TICKET_PHRASES:
        return TICKET_PHRASES[entry.action](entry, ticket)
    if entry.action in ACCOUNT_PHRASES:
        return ACCOUNT_PHRASES[entry.action](entry)
    if entry.action == "user.update":
        return _user_update(entry)
    if entry.action.startswith("psa."):
        return psa_predicate(entry)
    if entry.action.startswith("ticket.") and entry.field:  # status, priority, category...
        return Markup("changed {} from {} to {} on {}").format(
            entry.field, _value(entry.old_value, entry.field),
            _value(entry.new_value, entry.field), ticket)
    # An action this module does not know yet: still a readable line, never an error.
    words = Markup("did {}").format(entry.action)
    if entry.field:
        words += Markup(" ({}: {} → {})").format(entry.field, entry.old_value or "—",
                                                  entry.new_value or "—")
    return words + (Markup(" on {}").format(ticket) if ticket else "")


def sentence(entry):
    """The entry as one sentence (Markup), its actor first."""
    if entry.action == "user.login_failed" and entry.actor_id is None:
        return Markup("Someone ") + _predicate(entry)
    return _person(entry.actor) + Markup(" ") + _predicate(entry)
