"""A PSA note's HTML as the plain text a reply of ours is written in.

PSAs keep notes as HTML (HaloPSA's ``note_html``); a reply of ours is Markdown that
``helpdesk.markdown`` renders and cleans. Pulling a note we keep its words and line breaks,
never its markup: the thread shows it through the one Markdown module like any reply.
"""

import re
from html import unescape
from html.parser import HTMLParser

_BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
           "pre", "table", "ul", "ol"}
_SKIPPED = {"script", "style", "head", "title"}


class _Text(HTMLParser):
    """Collects text, a line break at each block, nothing of scripts or styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag in _BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def note_text(html):
    """The text of ``html``: tags gone, entities read, at most one blank line in a row."""
    if not html:
        return ""
    if "<" not in html:
        return unescape(html).strip()
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
