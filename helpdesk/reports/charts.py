"""Charts drawn on the server as SVG: no script, nothing inline for the content security
policy to refuse (colours come from classes in ``app.css``), and readable without the
picture, as every chart's numbers are in the table under it.

This module works out the geometry; ``templates/reports/_charts.html`` writes the SVG. The
drawings scale to their container (a ``viewBox``), so a phone shows them whole.
"""

from dataclasses import dataclass

VOLUME_WIDTH, VOLUME_HEIGHT = 640, 220
BARS_WIDTH, BAR_ROW = 400, 22
PLOT_LEFT, PLOT_BOTTOM, PLOT_TOP = 40, 24, 10
LABEL_WIDTH = 140
MAX_AXIS_LABELS = 8
MAX_BARS = 12
LABEL_CHARS = 20


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str  # a CSS class: opened, resolved
    title: str  # the tooltip, for pointers; the table carries the numbers for everyone


def nice_top(value):
    """The smallest 1, 2 or 5 times a power of ten at least ``value`` (1 at least)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def volume_chart(periods, per):
    """Opened and resolved tickets per period as paired columns, with a y axis of three
    ticks and at most ``MAX_AXIS_LABELS`` period labels."""
    top = nice_top(max((max(p.opened, p.resolved) for p in periods), default=0))
    plot_width = VOLUME_WIDTH - PLOT_LEFT - 8
    plot_height = VOLUME_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / max(len(periods), 1)
    bar = max(slot * 0.38, 0.5)
    bars, labels = [], []
    every = -(-len(periods) // MAX_AXIS_LABELS)  # ceiling division
    for index, period in enumerate(periods):
        left = PLOT_LEFT + index * slot + slot * 0.1
        for offset, series, count in ((0, "opened", period.opened),
                                      (bar, "resolved", period.resolved)):
            if not count:
                continue
            height = plot_height * count / top
            bars.append(Bar(x=round(left + offset, 2), y=round(PLOT_TOP + plot_height - height, 2),
                            width=round(bar, 2), height=round(height, 2), series=series,
                            title=f"{per} of {period.label}: {count} {series}"))
        if index % every == 0:
            labels.append((round(PLOT_LEFT + index * slot + slot / 2, 2), period.label[5:]))
    shares = (0, 0.5, 1) if top % 2 == 0 else (0, 1)  # whole numbers on the axis only
    ticks = [(round(PLOT_TOP + plot_height * (1 - share), 2), round(top * share))
             for share in shares]
    return {"width": VOLUME_WIDTH, "height": VOLUME_HEIGHT, "bars": bars, "labels": labels,
            "ticks": ticks, "left": PLOT_LEFT, "right": VOLUME_WIDTH - 8,
            "baseline": PLOT_TOP + plot_height}


def bars_chart(rows, *, label):
    """Horizontal bars of the tickets opened for the first ``MAX_BARS`` rows (largest
    first), or of the backlog now when none was opened in the range; each labelled
    (``label(figures)``, cut to ``LABEL_CHARS``) and with its number at its end."""
    value = "opened" if any(row.opened for row in rows) else "backlog"
    shown = rows[:MAX_BARS]
    top = max((getattr(row, value) for row in shown), default=0) or 1
    room = BARS_WIDTH - LABEL_WIDTH - 48
    items = []
    for index, row in enumerate(shown):
        count = getattr(row, value)
        name = str(label(row))
        short = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"
        width = round(room * count / top, 2)
        items.append({"y": index * BAR_ROW, "label": short, "name": name, "count": count,
                      "width": width, "end": LABEL_WIDTH + width + 4})
    return {"width": BARS_WIDTH, "height": max(len(shown), 1) * BAR_ROW, "items": items,
            "left": LABEL_WIDTH, "row": BAR_ROW, "value": value}
