"""The status pills of the portal's ticket list, in a customer's words.

One pill per customer status (``models.ticket.CUSTOMER_STATUSES``), so "In progress" also
lists ``waiting_on_vendor`` and ``on_hold``: to a customer those are being worked on.
"""

from helpdesk.models.ticket import CUSTOMER_STATUSES, CustomerStatus, customer_status

ALL = CustomerStatus(None, "All", None)
STATUS_FILTERS = (ALL, *CUSTOMER_STATUSES)
# The tickets the customer is asked to answer: the list points them out.
WAITING_ON_YOU = customer_status("waiting_on_customer")
_BY_KEY = {pill.key: pill for pill in STATUS_FILTERS}


def status_filter(key):
    """The pill a ``status`` query parameter names; anything unknown means All."""
    return _BY_KEY.get(key or None, ALL)
