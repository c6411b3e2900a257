"""What the bench help desk looks like, once for both databases.

PostgreSQL draws its random choices in SQL (``generate_series`` and a seeded ``random()``),
SQLite in Python (a seeded ``random.Random``); both read the shares, spans and skews from here,
so the two data sets have the same shape: the same statuses in the same proportions, a few
subscribers with hundreds of tickets, recent unresolved work and two years of history.
"""

import hashlib
from datetime import timedelta

RANDOM_SEED = 0.2026
# Roughly what a help desk looks like after two years: most tickets done, some in flight.
STATUS_SHARES = (
    ("closed", 0.55), ("resolved", 0.15), ("open", 0.09), ("in_progress", 0.08),
    ("waiting_on_customer", 0.07), ("waiting_on_vendor", 0.03), ("on_hold", 0.03),
)
PRIORITY_SHARES = (("low", 0.20), ("normal", 0.55), ("high", 0.18), ("urgent", 0.07))
# A ticket's subscriber is subscribers * r ** SKEW for a uniform r: low numbers are busy.
SUBSCRIBER_SKEW = 1.5
ASSIGNED_SHARE = 0.9  # of the tickets that left ``open``
NOTE_SHARE = 0.2  # of the replies: internal notes
UNRESOLVED_SPAN = timedelta(days=45)  # unresolved tickets were opened this recently
HISTORY_SPAN = timedelta(days=730)  # the others over two years
CLOSING_DELAY = timedelta(days=2)  # closed two days after the last reply
PEOPLE_AGE = timedelta(days=3 * 365)  # resellers and organisations exist this long
SUBSCRIBER_AGE = timedelta(days=2 * 365)
# Teams, as routing by category gives them: each category goes to one of BUSY_TEAMS teams or
# (one residue in BUSY_TEAMS + 1) to none; one ticket in RARE_TEAM_EVERY goes to one more team,
# a small one (escalations, say), so the bench asks for a busy team, a rare one and none.
BUSY_TEAMS = 3
RARE_TEAM_EVERY = 500


def team_number(position, category_id):
    """The 0-based number of the ``position``-th ticket's team among the bench's teams (the
    rare one last), or None. PostgreSQL computes the same in SQL (``team_sql``)."""
    if position % RARE_TEAM_EVERY == 0:
        return BUSY_TEAMS
    busy = category_id % (BUSY_TEAMS + 1)
    return None if busy == BUSY_TEAMS else busy


def team_sql(position, category_id, first_team):
    """``team_number`` as PostgreSQL's SQL (``mod``, so no ``%`` meets the driver's
    placeholders): the team's id, teams having consecutive ids from ``first_team``."""
    return (f"CASE WHEN mod({position}, {RARE_TEAM_EVERY}) = 0 THEN {first_team} + {BUSY_TEAMS}"
            f" WHEN mod({category_id}, {BUSY_TEAMS + 1}) = {BUSY_TEAMS} THEN NULL"
            f" ELSE {first_team} + mod({category_id}, {BUSY_TEAMS + 1}) END")


def serial_number(position):
    """The serial number ending the body of the ``position``-th ticket (1-based): unique per
    ticket, so it is a word exactly one ticket has. PostgreSQL computes the same in SQL."""
    return "SN" + hashlib.md5(str(position).encode()).hexdigest()[:8].upper()  # noqa: S324


def choose(shares, x):
    """The value whose cumulative share first exceeds the uniform ``x``."""
    total = 0.0
    for value, share in shares[:-1]:
        total += round(share, 4)
        if x < total:
            return value
    return shares[-1][0]


def choice_sql(shares, variable):
    """``choose`` as a SQL ``CASE`` over the uniform column ``variable``."""
    arms, total = [], 0.0
    for value, share in shares[:-1]:
        total += round(share, 4)
        arms.append(f"WHEN {variable} < {total:.4f} THEN '{value}'")
    return "CASE " + " ".join(arms) + f" ELSE '{shares[-1][0]}' END"
