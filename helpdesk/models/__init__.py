"""The help desk's tables. Import models from here so Alembic and the app see all of them."""

from helpdesk.models.api_token import ApiToken
from helpdesk.models.attachment import Attachment
from helpdesk.models.audit_entry import AuditEntry
from helpdesk.models.category import Category
from helpdesk.models.in_app_notification import InAppNotification
from helpdesk.models.inbound_message import InboundMessage
from helpdesk.models.notification import Notification
from helpdesk.models.notification_preference import NotificationPreference
from helpdesk.models.organisation import Organisation
from helpdesk.models.outgoing_mail import OutgoingMail
from helpdesk.models.psa_connection import PsaConnection
from helpdesk.models.psa_link import PsaLink
from helpdesk.models.psa_lookup import PsaLookup
from helpdesk.models.psa_mapping import PsaMapping
from helpdesk.models.psa_write import PsaWrite
from helpdesk.models.reply import Reply
from helpdesk.models.reseller import Reseller
from helpdesk.models.routing_rule import RoutingRule
from helpdesk.models.saved_view import SavedView
from helpdesk.models.sign_in import SignIn
from helpdesk.models.sla import SlaSettings, SlaTarget
from helpdesk.models.team import Team
from helpdesk.models.ticket import PRIORITIES, STATUSES, UNRESOLVED_STATUSES, Ticket
from helpdesk.models.ticket_event import TicketEvent
from helpdesk.models.ticket_tally import AssigneeTally, TicketDay, TicketTally
from helpdesk.models.time_entry import TimeEntry
from helpdesk.models.user import PERMISSIONS, ROLES, User
from helpdesk.models.webhook import WEBHOOK_EVENTS, Webhook, WebhookDelivery

__all__ = [
    "PERMISSIONS",
    "PRIORITIES",
    "ROLES",
    "STATUSES",
    "UNRESOLVED_STATUSES",
    "WEBHOOK_EVENTS",
    "ApiToken",
    "AssigneeTally",
    "Attachment",
    "AuditEntry",
    "Category",
    "InAppNotification",
    "InboundMessage",
    "Notification",
    "NotificationPreference",
    "Organisation",
    "OutgoingMail",
    "PsaConnection",
    "PsaLink",
    "PsaLookup",
    "PsaMapping",
    "PsaWrite",
    "Reply",
    "Reseller",
    "RoutingRule",
    "SavedView",
    "SignIn",
    "SlaSettings",
    "SlaTarget",
    "Team",
    "Ticket",
    "TicketDay",
    "TicketEvent",
    "TicketTally",
    "TimeEntry",
    "User",
    "Webhook",
    "WebhookDelivery",
]
