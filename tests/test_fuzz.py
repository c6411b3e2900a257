"""Generated junk to every route and parameter, as every role, on every backend: never a 5xx.

Nothing here is a hand list. Routes come from ``app.url_map`` (all but ``static``); parameter
names are harvested from what the code reads (``args.get("...")``, ``form.get("...")``, the
fields of every form class) and what the templates send (``name="..."``), plus keys an
attacker would try on ``url_for``-style code (``_external``, ``_method``, ``endpoint``...).
Values are junk of the kinds that broke the app before: Unicode digits that pass
``isdigit()``, numbers past the database's integer range, forged paging cursors, naive and
aware times, NUL bytes, long and empty strings, repeated keys, and the world's real ids so the
handlers run deep.

Each rule gets one Hypothesis test (derandomised, so CI sends the same requests every run):

- a **sweep** of explicit examples, one per kind of junk, each giving every harvested name a
  value of that kind (the path on real ids), and one with only the junk keys: every name meets
  every kind, so a class of bug cannot hide behind luck;
- a few **generated** requests on top: random subsets and repeats of names, any junk, junk in
  the path too, htmx or not, sometimes a file.

Each role signs in once through the real form and runs every rule in turn. Unsafe methods carry
the session's real CSRF token (first, so a junk ``csrf_token`` value does not replace it), or
they would only exercise the CSRF check. Rules that end the session or delete things run last,
and a role a generated request signed out signs in again before the next rule. Pages are two
tickets long, so pagers and cursors are on the page for the junk to reach.
"""

import base64
import io
import json
import re
from datetime import UTC, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, IntegerConverter
from wtforms.fields.core import UnboundField

import helpdesk
from helpdesk.desk.queue_filters import AGES, SORTS
from helpdesk.extensions import db
from helpdesk.models import PRIORITIES, STATUSES
from tests.conftest import AuthActions, csrf_token_from
from tests.world import PASSWORD, email

ROOT = Path(__file__).resolve().parent.parent
ROLES = {  # role: the world user who plays it (None: not signed in)
    "anonymous": None, "subscriber": "alice", "company_admin": "carol",
    "reseller": "north_reseller", "agent": "agent", "admin": "admin",
}
GENERATED_PER_RULE = 2  # on top of the sweep's one request per kind of junk
JUNK_KEYS = {  # keys that url_for(**request.args)-style code would take as its own
    "_external": "1", "_scheme": "https", "_anchor": "x", "_method": "POST",
    "endpoint": "auth.logout", "values": "1", "csrf_token": "forged",
}
# Digits that pass str.isdigit(): superscripts, Arabic-Indic, NKo, mathematical, fullwidth.
UNICODE_DIGITS = ("²", "١٢", "߁", "\U0001d7d8", "³⁴", "½", "Ⅻ", "٣" * 11, "\uff11\uff12")
OUT_OF_RANGE = tuple(str(n) for n in (2**31, 2**63, 2**64, 10**30, -1))
PATH_JUNK = ("²", str(2**31), str(2**63))  # Unicode digit; past INTEGER; past BIGINT
EDGE_NUMBERS = (*OUT_OF_RANGE, "0", str(2**31 - 1), "00", "1e3", " 7", "1.5", "+3", "0x1f")
ZONES = (UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=23, minutes=59)))
TIMES = ("2026-11-23T10:00:00", "2026-11-23T10:00:00+05:00", "9999-12-31T23:59:59-14:00",
         "0001-01-01T00:00:00+14:00", "2026-13-45T99:99", "2026-11-23")
CURSOR_VALUES = (  # the default sort's three columns (rank, time, id), with the wrong types
    [0, "2026-11-23T10:00:00", 1], [0, "2026-11-23T10:00:00+00:00", 2**63],
    [True, {"a": 1}, None], [1, "not a time", 2], [0, 1, "2026-11-23T10:00:00+00:00"],
)
ENDS_SESSION = re.compile(r"logout|sign_out|signout|sessions|delete")


# --- what to send --------------------------------------------------------------------------

def harvested_names():
    """Every parameter name the templates send or the code reads, plus junk keys."""
    names = set(JUNK_KEYS)
    for template in (ROOT / "templates").rglob("*.html"):
        names.update(re.findall(r'\bname="([A-Za-z_][\w-]*)"', template.read_text()))
    reads = re.compile(r"""(?:args|form|values|files)\s*(?:\.get(?:list)?\(|\[)\s*["']([\w-]+)""")
    for source in Path(helpdesk.__file__).parent.rglob("*.py"):
        names.update(reads.findall(source.read_text()))
    for form in _subclasses(FlaskForm):
        for klass in form.__mro__:
            names.update(key for key, value in vars(klass).items()
                         if isinstance(value, UnboundField))
    return sorted(names)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def forged_cursor(values):
    """A cursor in the queue's format (base64 of a JSON list) holding arbitrary values."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def linked_ids(app, client, pages=8):
    """Ids in the links of the pages this role reaches from ``/``, by path argument.

    They are the ids the role may see (its own tickets, its customers), so junk sent with them
    gets past the access checks into the handlers. Breadth-first over a few pages.
    """
    adapter = app.url_map.bind("localhost")
    found, queue, seen = {}, ["/"], set()
    while queue and len(seen) < pages:
        page = queue.pop(0)
        seen.add(page)
        html = client.get(page, follow_redirects=True).text
        for href in re.findall(r'href="(/[^"?#]*)', html):
            try:
                endpoint, arguments = adapter.match(href, method="GET")
            except HTTPException:
                continue
            for name, value in arguments.items():
                if isinstance(value, int) and value not in found.setdefault(name, []):
                    found[name].append(value)
            if arguments and endpoint != "static" and href not in seen and href not in queue:
                queue.append(href)
    return found


def real_ids(app, client):
    """Ids by parameter name (``ticket_id`` or ``ticket`` → tickets): first those the role's
    pages link to, then the newest of the table."""
    linked = linked_ids(app, client)
    by_table = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "id" in table.c:
                by_table[table.name] = db.session.scalars(
                    select(table.c.id).order_by(table.c.id.desc()).limit(20)).all()
    every = sorted({i for ids in by_table.values() for i in ids}) or [1]
    names = {arg for rule in app.url_map.iter_rules() for arg in rule.arguments}
    by_name = {}
    for name in names | set(harvested_names()):
        stem = name.removesuffix("_id")
        newest = [i for table, ids in by_table.items()
                  if table.removesuffix("s").endswith(stem) for i in ids] or every
        by_name[name] = list(dict.fromkeys([*linked.get(name, []), *newest]))
    return by_name


class Junk:
    """The kinds of junk, as Hypothesis strategies and as the sweep's fixed representatives."""

    def __init__(self, ids_by_name):
        self.ids_by_name = ids_by_name
        self.words = [*STATUSES, *PRIORITIES, *SORTS, *AGES, "me", "unassigned", "1",
                      email("alice"), PASSWORD, "TKT-1"]
        self.kinds = {  # kind: what the sweep gives the i-th name of a request
            "junk keys": None,  # only JUNK_KEYS, everything else left to its default
            "real": lambda name, i: (str(self._ids(name)[i % len(self._ids(name))]) if i % 2
                                     else self.words[i % len(self.words)]),
            "unicode digits": lambda name, i: UNICODE_DIGITS[i % len(UNICODE_DIGITS)],
            "out of range": lambda name, i: OUT_OF_RANGE[i % len(OUT_OF_RANGE)],
            "nul": lambda name, i: ("\x00", "a\x00b", f"{self._ids(name)[0]}\x00",
                                    email("alice") + "\x00")[i % 4],
            "cursor": lambda name, i: forged_cursor(CURSOR_VALUES[i % len(CURSOR_VALUES)]),
            "time": lambda name, i: TIMES[i % len(TIMES)],
        }
        self.values = st.one_of(
            st.sampled_from(sorted({i for ids in ids_by_name.values() for i in ids})).map(str),
            st.sampled_from(self.words), st.sampled_from(UNICODE_DIGITS),
            st.sampled_from(EDGE_NUMBERS), st.integers(-(2**70), 2**70).map(str),
            st.text(max_size=16), st.text(alphabet="a1²\x00 -_.:/%", max_size=8),
            st.lists(self._json(), max_size=4).map(forged_cursor),
            st.sampled_from(CURSOR_VALUES).map(forged_cursor),
            st.lists(st.sampled_from(CURSOR_VALUES[0]), max_size=3).map(forged_cursor),
            self._times(),
            st.sampled_from(["", "x" * 5000, "\x00", "a\x00b", "TKT-", "TKT-²"]),
        )

    def _ids(self, name):
        return self.ids_by_name.get(name) or [1]

    @staticmethod
    def _times():
        """ISO 8601 times, with and without a zone, and some that only look like one."""
        return st.one_of(
            st.datetimes().map(lambda value: value.isoformat()),
            st.datetimes(timezones=st.sampled_from(ZONES)).map(lambda value: value.isoformat()),
            st.sampled_from(TIMES),
        )

    def _json(self):
        """Any JSON: the wrong type for every column a cursor stands for."""
        scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                            st.floats(allow_nan=False), st.text(max_size=12), self._times())
        return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                            max_leaves=6)

    def path(self, converter, name):
        """Values for a path parameter: real ids of that kind most often, and junk."""
        if isinstance(converter, AnyConverter):
            return st.sampled_from(sorted(converter.items)) | st.text(min_size=1, max_size=8)
        junk = st.one_of(st.sampled_from(UNICODE_DIGITS), st.sampled_from(EDGE_NUMBERS),
                         st.integers(-(2**70), 2**70).map(str), st.text(min_size=1, max_size=8))
        if isinstance(converter, IntegerConverter):
            real = st.sampled_from(self._ids(name)).map(str)
            return st.one_of(real, real, junk)
        return junk


def _path(rule, values):
    """The rule's path with ``values`` (text) in place of its arguments, quoted."""
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda match: quote(values[match[1]], safe=""),
                  rule.rule)


def _methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _request(method, path, pairs, *, csrf_token, htmx, files=()):
    """Keyword arguments for ``client.open``: unsafe methods send the pairs as the form too."""
    request = {"method": method, "path": path, "query_string": urlencode(pairs),
               "headers": {"HX-Request": "true"} if htmx else {}}
    if method != "GET":
        request["data"] = MultiDict([("csrf_token", csrf_token), *pairs, *files])
    return request


def _reachable_path_values(rule, junk, k):
    """Path arguments the role can reach: linked ids, the any() choices in turn, else junk."""
    values = {}
    for argument, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            items = sorted(converter.items)
            values[argument] = items[k % len(items)]
        elif isinstance(converter, IntegerConverter):
            values[argument] = str(junk._ids(argument)[0])
        else:
            values[argument] = junk.kinds["nul"](argument, k)
    return values


def sweep(rule, names, junk, csrf_token):
    """Per method, one request per kind of junk, every name given a value of that kind; then
    each numeric path argument given each kind of bad number."""
    for method in _methods(rule):
        for k, kind in enumerate(junk.kinds.values()):
            values = _reachable_path_values(rule, junk, k)
            if kind is None:
                pairs = list(JUNK_KEYS.items())
            else:
                pairs = [(name, kind(name, i)) for i, name in enumerate(names)]
            yield _request(method, _path(rule, values), pairs, csrf_token=csrf_token,
                           htmx=k % 2 == 1)
        for argument, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                for bad in PATH_JUNK:
                    values = _reachable_path_values(rule, junk, 0) | {argument: bad}
                    yield _request(method, _path(rule, values), [], csrf_token=csrf_token,
                                   htmx=False)


def generated(rule, names, junk, csrf_token):
    """A strategy for requests to ``rule`` (built once per rule: building is the slow part)."""
    paths = st.fixed_dictionaries({argument: junk.path(converter, argument)
                                   for argument, converter in rule._converters.items()})
    pairs = st.lists(st.tuples(st.sampled_from(names), junk.values), max_size=8)
    files = st.lists(st.tuples(
        st.just("attachments"),
        st.tuples(st.binary(max_size=64).map(io.BytesIO),
                  st.text(max_size=12) | st.sampled_from(["a.txt", "x\x00.pdf", ""]),
                  st.sampled_from(["text/plain", "a\x00/b", "", "x"]))), max_size=1)
    return st.builds(
        lambda method, values, pairs, htmx, files: _request(
            method, _path(rule, values), pairs, csrf_token=csrf_token, htmx=htmx, files=files),
        st.sampled_from(_methods(rule)), paths, pairs, st.booleans(), files)


# --- the test --------------------------------------------------------------------------------

def fuzzed_rules(app):
    """Every rule but static files; those that end the session or delete things last."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    return sorted(rules, key=lambda rule: (bool(ENDS_SESSION.search(rule.endpoint)),
                                           rule.rule, _methods(rule)))


def signed_in(client):
    """Is the client still signed in? ``/`` sends visitors to the sign-in page."""
    return "/login" not in client.get("/").headers.get("Location", "/login")


@pytest.mark.parametrize("role", ROLES)
def test_no_input_answers_5xx(app, world, role, monkeypatch):
    """Every rule, each parameter fed every kind of junk, as ``role``: every answer is < 500."""
    monkeypatch.setitem(app.config, "TICKETS_PER_PAGE", 2)
    client = app.test_client()
    auth = AuthActions(client)
    user = ROLES[role]
    if user:
        assert auth.login(email(user)).status_code == 302
    names = harvested_names()
    assert {"email", "password", "body", "after", "since", "customer", "page"} <= set(names)
    junk = Junk(real_ids(app, client))
    rules = fuzzed_rules(app)
    assert len(rules) >= 30, "the URL map lost its routes?"
    token = csrf_token_from(client.get("/login", follow_redirects=True).text)
    for rule in rules:
        _fuzz_rule(client, rule, names, junk, token)
        if user and _methods(rule) != ["GET"] and not signed_in(client):
            auth.login(email(user))
            token = csrf_token_from(client.get("/login", follow_redirects=True).text)


def _fuzz_rule(client, rule, names, junk, csrf_token):
    """The sweep and a few generated requests; a 5xx fails with the request that caused it."""

    @settings(max_examples=GENERATED_PER_RULE, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(request=generated(rule, names, junk, csrf_token))
    def send(request):
        note(f"{request['method']} {request['path']}?{request['query_string']}")
        response = client.open(**request)
        assert response.status_code < 500, (
            f"{response.status_code} on {request['method']} {request['path']}"
            f"?{request['query_string']} data={request.get('data')}")

    for request in sweep(rule, names, junk, csrf_token):
        send = example(request=request)(send)
    send()
