"""The words the bench tickets are made of, rendered once through the real Markdown module.

Bulk SQL cannot call ``render_markdown`` per row, so every body comes from a small pool whose
HTML is rendered here, once, by the same code the services use; the stored pages then look
like real ones (same tags, similar sizes). The demo's texts are reused so the bench reads
like the demo, only larger.
"""

from dataclasses import dataclass

from helpdesk import demo_data
from helpdesk.markdown import RENDERER_VERSION, render_markdown

DETAILS = (
    "It started yesterday evening and happens several times an hour.",
    "Customer reference: **line {n}**. Restarting the router did not help.",
    "Tried on two devices, same result:\n\n- laptop on Wi-Fi\n- desktop on the LAN port",
    "Please call me back after 17:00, I am at work during the day.",
)
SEARCH_WORD = "router"  # common in subjects and replies: the text-search scenario's query
SEARCH_PHRASE = "restarting the router"  # a phrase of DETAILS and of customer replies


@dataclass(frozen=True)
class Pool:
    """Parallel lists: Markdown source and its rendered HTML (and a category for subjects)."""

    source: list
    html: list
    category: list


def ticket_pool(category_ids):
    """Subjects with bodies, each tied to its category (``category_ids``: name to id)."""
    source, html, category, subjects = [], [], [], []
    for name, names in demo_data.SUBJECTS.items():
        for subject in names:
            for number, detail in enumerate(DETAILS):
                body = f"{subject}.\n\n{detail.format(n=1000 + number)}"
                subjects.append(subject)
                source.append(body)
                html.append(render_markdown(body))
                category.append(category_ids[name])
    return subjects, Pool(source, html, category)


def reply_pool(texts):
    """One kind of reply (customer, support, internal note, resolution), rendered."""
    return Pool(list(texts), [render_markdown(text) for text in texts], [])


def reply_pools():
    """The four kinds of reply a bench thread is made of."""
    return {
        "customer": reply_pool(demo_data.CUSTOMER_REPLIES),
        "support": reply_pool(demo_data.SUPPORT_REPLIES),
        "note": reply_pool(demo_data.INTERNAL_NOTES),
        "resolution": reply_pool(demo_data.RESOLUTIONS),
    }


__all__ = ["RENDERER_VERSION", "SEARCH_PHRASE", "SEARCH_WORD", "Pool", "reply_pools", "ticket_pool"]
