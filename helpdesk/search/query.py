"""What people type in a search box, read into terms that every database matches alike.

- ``router modem``: every word must match, as a whole word (stemmed: ``router`` finds
  ``routers``); ``rout*`` asks for a prefix. The live search, which runs while a word is
  half typed, sends its last word with the ``*`` (static/app.js), so the URL it leaves says
  what was searched. Whole words are exact lexemes: GIN's partial match reads every posting
  of a prefix (20-40 ms for a common name at 1,000,000 tickets, an exact word 2 ms);
- ``"restart the router"``: a phrase, its words adjacent and in order (an unclosed quote runs
  to the end of the query);
- ``alice@example.net``: an email address, found in the text and as the subscriber's address;
- ``v1.2-beta``, ``foo_bar``: a chunk with punctuation inside stays together, its words
  adjacent, and is a prefix (``secret-internal`` finds ``secret-internal-note``, which
  PostgreSQL keeps as one lexeme besides its parts);
- ``TKT-1042`` or ``1042``: a ticket number (``ticket_number``); the search box jumps to it.

Nothing the user types reaches the SQL or the full-text syntax as syntax: a term keeps only
letters and digits (plus ``@ . + - _`` inside an email address), and the builders in
``helpdesk.search.match`` quote it themselves. English stop words are dropped from plain
terms on both databases, as PostgreSQL's ``english`` configuration drops them (so ``the
router`` means ``router`` everywhere); inside a phrase they stay, and only count as a gap.
"""

import re
from dataclasses import dataclass

MAX_TERMS = 8
MAX_TERM_LENGTH = 100
# PostgreSQL's english.stop (the Snowball list), so SQLite ignores the same words.
STOP_WORDS = frozenset((
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it",
    "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who",
    "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be", "been",
    "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and",
    "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to",
    "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then",
    "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few",
    "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so",
    "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now",
))

_WORD = re.compile(r"[^\W_]+")  # letters and digits, any script; "_" separates, as in FTS5
# An address, or the start of one while it is typed ("erin@te").
_EMAIL = re.compile(r"[\w.+-]+@[\w.-]*")
_CHUNK = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Term:
    """One thing every matching ticket must contain.

    ``kind`` is ``word`` (a chunk without spaces: its words adjacent), ``phrase`` (quoted:
    adjacent words) or ``email``. ``words`` are its letters and digits in order; ``text`` is
    what PostgreSQL's parser reads for it. ``prefix``: its last word may be the start of a
    longer one (a word or an address, never a phrase).
    """

    kind: str
    words: tuple
    text: str
    prefix: bool = False


def search_terms(query):
    """The terms of ``query``: at most ``MAX_TERMS``, each with at least one word."""
    terms = []
    for match in _CHUNK.finditer(query or ""):
        phrase, chunk = match.group(1), match.group(2)
        term = _phrase(phrase) if phrase is not None else _chunk(chunk)
        if term is not None and term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def _phrase(text):
    words = tuple(_WORD.findall(text[:MAX_TERM_LENGTH * 2]))
    if len(words) == 1:
        return _chunk(words[0])
    if not words or all(word.lower() in STOP_WORDS for word in words):
        return None
    return Term("phrase", words, " ".join(words))


def _chunk(text):
    text = text[:MAX_TERM_LENGTH]
    words = tuple(_WORD.findall(text))
    if not words or all(word.lower() in STOP_WORDS for word in words):
        return None
    prefix = text.endswith("*") or len(words) > 1
    email = _EMAIL.search(text)
    if email is not None and _WORD.search(email.group(0)):
        return Term("email", tuple(_WORD.findall(email.group(0))), email.group(0).lower(),
                    prefix)
    # PostgreSQL's parser reads the chunk as it read the text, so "v1.2" or "foo-bar" is
    # found as indexed; quotes and backslashes (its only syntax inside a quoted operand) go,
    # and so does the "*" of a prefix.
    return Term("word", words, re.sub(r"['\\\s*]+", " ", text).strip(), prefix)


def ticket_number(query, prefix):
    """``(id, prefixed)`` when the whole query is a ticket number, else None.

    ``TKT-1042`` (the configured ``prefix``, any case, ``#`` allowed) is ``(1042, True)``;
    a bare ``1042`` or ``#1042`` is ``(1042, False)``; a ``*`` after it (the live search's
    prefix) changes nothing. Numbers past the id range are no
    ticket number (they name nothing).
    """
    from helpdesk.params import parse_id

    match = re.fullmatch(rf"\s*#?(?:({re.escape(prefix)})\s*-?\s*)?#?([0-9]{{1,18}})\*?\s*",
                         query or "", re.IGNORECASE)
    if match is None:
        return None
    number = parse_id(match.group(2))
    return None if number is None else (number, match.group(1) is not None)
