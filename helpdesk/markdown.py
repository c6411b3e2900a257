"""The one place that turns user text into HTML.

markdown-it-py renders with raw HTML off (``js-default`` preset, linkify on); bleach then keeps
only an explicit allow-list of tags and attributes, and its linkifier turns bare addresses into
links. The link rule holds for every ``<a>`` this module outputs, whoever made it (markdown-it,
the linkifier, or a link the cleaner left without its ``href``): a link survives only when its
``href`` names an allowed protocol (``http``, ``https``, ``mailto``) explicitly, and gets
``rel="nofollow noopener noreferrer"``; any other link becomes its plain text. The check runs
in the linkifier's callback, the last step, so no later stage can add a link behind it.

Callers store the result beside the source together with ``RENDERER_VERSION``; a thread shows
the stored HTML when it came from this version and renders the source again otherwise
(``current_html``), so a fix here reaches old replies too.
"""

import re
from functools import partial
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import Linker, build_url_re
from markdown_it import MarkdownIt

# 2: the protocol allow-list holds for links made by the linkifier too.
RENDERER_VERSION = 2

ALLOWED_TAGS = frozenset({
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "ol": ["start"],
    "code": ["class"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"
# Characters browsers drop from a URL before reading its scheme ("java\tscript:").
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")

_markdown = MarkdownIt("js-default", {"linkify": True, "typographer": False}).enable("linkify")
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def link_allowed(href):
    """Does ``href`` name an allowed protocol explicitly? Relative and scheme-less links,
    and anything that does not parse, do not."""
    try:
        scheme = urlsplit(_IGNORED_IN_SCHEME.sub("", href or "")).scheme
    except ValueError:
        return False
    return scheme.lower() in ALLOWED_PROTOCOLS


def _allowed_link_only(attrs, new=False):
    """Linkifier callback for every link, old and new: keep allowed ones with our ``rel``,
    unlink the rest (returning None keeps the text and drops the ``<a>``)."""
    if not link_allowed(attrs.get((None, "href"))):
        return None
    attrs[(None, "rel")] = LINK_REL
    return attrs


_linker = partial(
    Linker(
        callbacks=[_allowed_link_only], skip_tags={"pre", "code"}, parse_email=False,
        url_re=build_url_re(protocols=sorted(ALLOWED_PROTOCOLS)),
    ).linkify
)


def render_markdown(source):
    """Render Markdown source to sanitised HTML (a string safe to mark as Markup)."""
    html = _markdown.render(source or "")
    return _linker(_cleaner.clean(html)).strip()


def current_html(source, stored_html, renderer_version):
    """The HTML to show: the stored copy when this renderer made it, else a fresh render."""
    if renderer_version == RENDERER_VERSION and stored_html is not None:
        return stored_html
    return render_markdown(source)
