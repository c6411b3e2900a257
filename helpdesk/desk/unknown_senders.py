"""``POST /tickets/<id>/customer``: staff attach a ticket from an unknown email sender to the
customer who wrote it (``services.mail_senders.attach_sender``). A plain form post that
redirects, or htmx's fragment of the ticket; a refusal comes back beside the field."""

from flask import request
from flask_login import current_user, login_required

from helpdesk.desk.actions import _answer, _desk_ticket
from helpdesk.desk.views import bp
from helpdesk.services import mail_senders
from helpdesk.services.errors import TicketError


@bp.post("/tickets/<int:ticket_id>/customer")
@login_required
def attach_sender(ticket_id):
    """Give the ticket to the customer whose email was typed."""
    ticket = _desk_ticket(ticket_id)
    typed = (request.form.get("customer") or "").strip()[:254]
    customer = mail_senders.customer_by_email(typed)
    try:
        if customer is None:
            raise TicketError(f"No customer has the email {typed or '(empty)'}: create them "
                              "first (Admin, Users), then attach the ticket.", field="customer")
        mail_senders.attach_sender(ticket, customer=customer, actor=current_user)
    except TicketError as error:
        # Beside the form while there is one; in the header once the ticket has a customer.
        place = "customer" if mail_senders.is_flagged(ticket) else "header"
        return _answer(ticket, error=error, draft={"customer": typed}, place=place)
    return _answer(ticket)
