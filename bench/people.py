"""The bench help desk's people: resellers, organisations, agents, reseller staff, subscribers,
and the operator's teams.

A few thousand rows, built in Python and inserted the same way on both databases. Subscribers
have people's names (2,500 combinations), so a name is a realistic search term; a few
subscribers own hundreds of tickets (see ``shape.SUBSCRIBER_SKEW``), and the busiest one is
the portal's bench login.
"""

from bench import database, shape
from helpdesk.models.timestamps import utcnow
from helpdesk.services import accounts, api_tokens

BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 - the published password of bench logins
EMAIL_DOMAIN = "bench.test"
AGENT_EMAIL = f"agent@{EMAIL_DOMAIN}"
RESELLER_EMAIL = f"reseller-1@{EMAIL_DOMAIN}"
SUBSCRIBER_EMAIL_PREFIX = "subscriber-"
API_TOKEN_NAME = "bench"  # noqa: S105 - the name of the API scenarios' tokens, not one
FIRST_NAMES = (
    "Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiroshi", "Ines", "Jonas",
    "Kemal", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
    "Ulla", "Viktor", "Wanjiru", "Xavier", "Yara", "Zoltan", "Amara", "Bjorn", "Carmen",
    "Dario", "Esther", "Felix", "Gwen", "Hugo", "Ilse", "Joaquin", "Katja", "Luca", "Mira",
    "Nils", "Olga", "Pavel", "Rania", "Samir", "Tove", "Uma", "Vera", "Wim", "Yusuf", "Zara",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Novak", "Haddad", "Kowalski", "Tanaka", "Brennan",
    "Ferreira", "Schulz", "Ivanova", "Mensah", "Rossi", "Dubois", "Nakamura", "Petrov",
    "Andersen", "Castillo", "Yilmaz", "Horvat", "Kariuki", "Sorensen", "Vasquez", "Lambert",
    "Oyelaran", "Bianchi", "Eriksen", "Gallagher", "Hoffmann", "Jensen", "Kuznetsov", "Laine",
    "Marchetti", "Nieminen", "Ortega", "Pereira", "Quist", "Richter", "Santos", "Takahashi",
    "Urquhart", "Varga", "Weber", "Xu", "Yamamoto", "Zielinski", "Abbasi", "Borg", "Costa",
    "Dahl",
)
USER_COLUMNS = ("email", "name", "password_hash", "role", "reseller_id", "organisation_id",
                "permission_names", "created_at")


def subscriber_name(number):
    """The ``number``-th subscriber's name (first names cycle fastest)."""
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    return f"{first} {LAST_NAMES[number // len(FIRST_NAMES) % len(LAST_NAMES)]}"


def add_people(connection, plan, password_hash):
    """Insert everyone. Subscribers get consecutive ids in number order, which the ticket
    seeding relies on (subscriber ``n`` is the first subscriber's id plus ``n - 1``)."""
    now = utcnow()
    database.insert_rows(connection, "resellers", ("name", "created_at"), [
        (f"Bench Reseller {r}", now - shape.PEOPLE_AGE) for r in range(1, plan.resellers + 1)])
    resellers = [r for (r,) in connection.execute("SELECT id FROM resellers ORDER BY id")]
    # One organisation in five is the operator's own customer (no reseller).
    database.insert_rows(connection, "organisations", ("name", "reseller_id", "created_at"), [
        (f"Bench Organisation {o}",
         None if o % 5 == 0 else resellers[o % len(resellers)], now - shape.PEOPLE_AGE)
        for o in range(1, plan.organisations + 1)])
    organisations = connection.execute(
        "SELECT id, reseller_id FROM organisations ORDER BY id").fetchall()
    staff = [(f"{'agent' if a == 1 else f'agent-{a}'}@{EMAIL_DOMAIN}", f"Agent {a}",
              password_hash, "agent", None, None, "", now) for a in range(1, plan.agents + 1)]
    permissions = " ".join(sorted(accounts.DEFAULT_RESELLER_PERMISSIONS))
    staff += [(f"reseller-{n}@{EMAIL_DOMAIN}", f"Reseller staff {n}", password_hash,
               "reseller", r, None, permissions, now) for n, r in enumerate(resellers, 1)]
    database.insert_rows(connection, "users", USER_COLUMNS, staff)
    # Consecutive ids, the rare team last (``shape.team_number``).
    database.insert_rows(connection, "teams", ("name", "created_at"), [
        (f"Bench Team {t}", now - shape.PEOPLE_AGE) for t in range(1, shape.BUSY_TEAMS + 1)]
        + [("Bench Escalations", now - shape.PEOPLE_AGE)])
    database.insert_rows(connection, "users", USER_COLUMNS, [
        _subscriber(s, plan, password_hash, resellers, organisations, now)
        for s in range(1, plan.subscribers + 1)])


def _subscriber(number, plan, password_hash, resellers, organisations, now):
    """Two subscribers in five belong to an organisation (and so to its reseller); of the
    rest, one in four is the operator's direct subscriber."""
    organisation, reseller = None, None
    if number % 5 < 2:
        organisation, reseller = organisations[number % plan.organisations]
    elif number % 4 != 0:
        reseller = resellers[number % len(resellers)]
    role = "company_admin" if organisation and number % 50 == 7 else "subscriber"
    return (f"{SUBSCRIBER_EMAIL_PREFIX}{number}@{EMAIL_DOMAIN}", subscriber_name(number),
            password_hash, role, reseller, organisation, "", now - shape.SUBSCRIBER_AGE)


def api_token(email):
    """A fresh personal API token of the bench user ``email`` (in the app's context): the
    API's scenarios send it as ``Authorization: Bearer``. Tokens of earlier runs are
    revoked first, so runs do not pile them up."""
    user = accounts.find_user(email)
    for old in api_tokens.tokens_of(user):
        if old.name == API_TOKEN_NAME:
            api_tokens.revoke(old, actor=None)
    _token, secret = api_tokens.create_token(user, name=API_TOKEN_NAME, actor=None)
    return secret

