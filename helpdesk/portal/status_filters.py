"""The status pills of the portal's ticket list, in a customer's words.

Customers do not care whether we wait on a vendor or parked the ticket: to them it is being
worked on, so ``waiting_on_vendor`` and ``on_hold`` fall under "In progress".
"""

from collections import namedtuple

StatusFilter = namedtuple("StatusFilter", "key label statuses")

STATUS_FILTERS = (
    StatusFilter(None, "All", None),
    StatusFilter("open", "Open", ("open",)),
    StatusFilter("in_progress", "In progress", ("in_progress", "waiting_on_vendor", "on_hold")),
    StatusFilter("waiting_on_customer", "Waiting on you", ("waiting_on_customer",)),
    StatusFilter("resolved", "Resolved", ("resolved",)),
    StatusFilter("closed", "Closed", ("closed",)),
)
_BY_KEY = {pill.key: pill for pill in STATUS_FILTERS}


def status_filter(key):
    """The pill a ``status`` query parameter names; anything unknown means All."""
    return _BY_KEY.get(key or None, STATUS_FILTERS[0])
