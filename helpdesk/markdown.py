"""The one place that turns user text into HTML.

markdown-it-py renders with raw HTML off (``js-default`` preset, linkify on); bleach then keeps
only an explicit allow-list of tags, attributes and link protocols, and gives every link
``rel="nofollow noopener noreferrer"``. Callers store the result beside the source together
with ``RENDERER_VERSION`` so a thread renders without re-parsing.
"""

from functools import partial

import bleach
from bleach.linkifier import Linker
from markdown_it import MarkdownIt

RENDERER_VERSION = 1

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

_markdown = MarkdownIt("js-default", {"linkify": True, "typographer": False}).enable("linkify")
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def _set_rel(attrs, new=False):
    """Give every surviving link the same ``rel``."""
    attrs[(None, "rel")] = LINK_REL
    return attrs


_linker = partial(
    Linker(callbacks=[_set_rel], skip_tags={"pre", "code"}, parse_email=False).linkify
)


def render_markdown(source):
    """Render Markdown source to sanitised HTML (a string safe to mark as Markup)."""
    html = _markdown.render(source or "")
    return _linker(_cleaner.clean(html)).strip()
