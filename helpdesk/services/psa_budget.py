"""A PSA connection's request budget: how many requests the desk may still send it.

HaloPSA's hosted instances allow about 300 requests per rolling 5 minutes, shared with
everything else the operator runs, so each connection has a budget (``request_budget`` per
``BUDGET_WINDOW_SECONDS``, by default half of Halo's limit). Every request any process sends
(pulls, pushes, webhook fetches, a "Test connection") spends from the same budget, kept in
Redis as a sorted set of request times per connection: one atomic script prunes the window,
counts and spends, so two workers never both take the last request.
"""

import time
import uuid

from helpdesk.models.psa_connection import BUDGET_WINDOW_SECONDS
from helpdesk.psa.connector import Budget, BudgetSpent
from helpdesk.queues import get_redis

# KEYS[1]: the set; ARGV: now, window, limit, n, a unique prefix. Returns what is left after
# spending, or -1 (nothing spent) when ``n`` requests do not fit.
_SPEND = """
local key, now, window = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, n = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local used = redis.call('ZCARD', key)
if used + n > limit then return -1 end
for i = 1, n do redis.call('ZADD', key, now, ARGV[5] .. i) end
redis.call('EXPIRE', key, math.ceil(window) + 1)
return limit - used - n
"""


def _key(connection_id):
    return f"helpdesk:psa-budget:{connection_id}"


class RequestBudget(Budget):
    """The rolling-window budget of one connection (``limit`` requests per ``window`` s)."""

    def __init__(self, connection_id, *, limit, window=BUDGET_WINDOW_SECONDS, clock=time.time):
        self.connection_id, self.limit, self.window, self.clock = (
            connection_id, limit, window, clock)

    def spend(self, requests=1):
        """Take ``requests`` from the window, or raise ``BudgetSpent`` (taking none)."""
        left = get_redis().eval(_SPEND, 1, _key(self.connection_id), self.clock(), self.window,
                                self.limit, requests, f"{uuid.uuid4().hex}:")
        if left < 0:
            raise BudgetSpent(f"request budget spent: {self.limit} requests per "
                              f"{self.window // 60} minutes")
        return left

    def remaining(self):
        """Requests left in the current window (for the connection dashboard)."""
        connection = get_redis()
        key = _key(self.connection_id)
        used = connection.zcount(key, self.clock() - self.window, "+inf")
        return max(0, self.limit - used)


def budget_of(connection):
    """The request budget of a ``PsaConnection``."""
    return RequestBudget(connection.id, limit=connection.request_budget)
