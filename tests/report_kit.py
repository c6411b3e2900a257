"""What the report tests share: the histogram bucket around a duration, and a parser of the
page's tables."""

from html.parser import HTMLParser

from tests.tally_recount import BUCKET_ENDS_MINUTES


def bucket_around(seconds):
    """The edges (seconds) of the histogram bucket holding a duration, from the bucket ends
    written out in ``tests/tally_recount.py``; the last bucket's upper edge is None."""
    ends = [minutes * 60 for minutes in BUCKET_ENDS_MINUTES]
    low = max((end for end in ends if end <= seconds), default=0)
    return low, min((end for end in ends if end > seconds), default=None)


class Tables(HTMLParser):
    """The cells of every ``<table id="table-...">`` of a page, row by row."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id", "").startswith("table-"):
            self.current = self.tables.setdefault(attrs["id"][6:], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("th", "td") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
