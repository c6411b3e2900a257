"""The one Markdown module: rendering and the sanitiser's allow-list."""

import pytest

from helpdesk.markdown import RENDERER_VERSION, render_markdown


def test_renders_common_markdown():
    """Emphasis, lists and code come through."""
    html = render_markdown("**bold** and `code`\n\n- one\n- two")
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
])
def test_dangerous_input_comes_out_inert(source):
    """Raw HTML is escaped and only http, https and mailto links survive."""
    html = render_markdown(source)
    for danger in ("<script", "<img", "<iframe", "<style", "href=\"javascript:", "href=\"data:",
                   "onerror=\""):
        assert danger not in html


def test_links_get_rel_and_linkify():
    """Bare URLs become links and every link gets nofollow noopener noreferrer."""
    html = render_markdown("see https://status.example.net and [mail](mailto:noc@example.net)")
    assert 'href="https://status.example.net"' in html
    assert 'href="mailto:noc@example.net"' in html
    assert html.count('rel="nofollow noopener noreferrer"') == 2


def test_empty_input_renders_empty():
    """None and blank render to an empty string."""
    assert render_markdown(None) == ""
    assert render_markdown("   ") == ""


def test_renderer_version_is_recorded():
    """Stored HTML carries the version that produced it."""
    assert isinstance(RENDERER_VERSION, int) and RENDERER_VERSION >= 1


# Every scheme bleach's linkifier knows, plus the ones browsers run or hand to other programs.
SCHEMES = sorted({
    "afs", "aim", "callto", "data", "ed2k", "feed", "ftp", "gopher", "irc", "news", "nntp",
    "rsync", "rtsp", "sftp", "ssh", "tag", "telnet", "urn", "webcal", "xmpp",
    "javascript", "vbscript", "file", "blob", "about", "chrome", "intent", "jar", "smb",
    "tel", "sms", "ws", "wss", "ldap", "market", "steam", "ms-settings", "JavaScript", "DATA",
})
# Ways a link can reach the output: bare text, autolinks, inline, reference and image links,
# inside emphasis, a list, a table and a blockquote.
CONTEXTS = [
    "{url}",
    "see {url} now",
    "<{url}>",
    "[text]({url})",
    "[text][ref]\n\n[ref]: {url}",
    "![alt]({url})",
    "**{url}**",
    "- {url}",
    "| a |\n|---|\n| {url} |",
    "> {url}",
    '<a href="{url}">raw</a>',
]
URL_FORMS = ["{scheme}:example.com/x", "{scheme}://example.com/x", "{scheme}:alert(1)"]


def _hrefs(html):
    from html.parser import HTMLParser

    found = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((tag, value) for name, value in attrs if name in ("href", "src"))

    Links().feed(html)
    return found


@pytest.mark.parametrize("scheme", SCHEMES)
def test_no_link_leaves_the_allow_list(scheme):
    """Whatever made the link (markdown-it, the linkifier), only http, https and mailto
    hrefs come out, each with the same rel; a refused link leaves its text."""
    from urllib.parse import urlsplit

    from helpdesk.markdown import ALLOWED_PROTOCOLS, LINK_REL

    for form in URL_FORMS:
        url = form.format(scheme=scheme)
        for context in CONTEXTS:
            html = render_markdown(context.format(url=url))
            for tag, href in _hrefs(html):
                assert tag == "a", html
                assert urlsplit(href).scheme in ALLOWED_PROTOCOLS, (context, url, html)
            assert html.count("<a ") == html.count(f'rel="{LINK_REL}"'), html
            assert "<img" not in html and "<script" not in html


def test_relative_and_scheme_less_links_are_text():
    """A link must name its protocol: relative and protocol-relative ones become text."""
    for source in ("[a](foo/bar)", "[a](//evil.example/x)", "[a](/tickets/1)", "[a](#top)"):
        html = render_markdown(source)
        assert "<a" not in html and "a" in html


def test_allowed_links_still_work():
    """http, https and mailto links, bare or written, and www. addresses stay links."""
    html = render_markdown("http://a.example https://b.example/x?y=1 www.example.com "
                           "[d](mailto:noc@example.net) [e](HTTPS://e.example)")
    assert [href for _, href in _hrefs(html)] == [
        "http://a.example", "https://b.example/x?y=1", "http://www.example.com",
        "mailto:noc@example.net", "HTTPS://e.example"]


def test_code_is_never_linked():
    """URLs in code spans and blocks stay code."""
    html = render_markdown("`https://a.example`\n\n```\nhttps://b.example\n```")
    assert "<a" not in html


def test_old_stored_html_is_rendered_again():
    """HTML stored by an older renderer (which let other schemes through) is not shown as
    stored: the current renderer runs on the source."""
    from helpdesk.markdown import current_html

    stale = '<p><a href="data:example.com/x" rel="nofollow">data:example.com/x</a></p>'
    assert current_html("data:example.com/x", stale, RENDERER_VERSION - 1) == render_markdown(
        "data:example.com/x")
    assert 'href="data:' not in current_html("data:example.com/x", stale, RENDERER_VERSION - 1)
    fresh = render_markdown("**hi**")
    assert current_html("**hi**", fresh, RENDERER_VERSION) is fresh


def test_threads_show_and_the_cli_stores_a_current_render(app, client, auth, world, runner):
    """A reply stored by an older renderer with a ``data:`` link shows without it (desk and
    portal), and ``rerender-markdown`` rewrites the stored copy, once."""
    from helpdesk.extensions import db
    from helpdesk.models import Reply, Ticket
    from tests.world import email

    stale = '<p><a href="data:example.com/x" rel="nofollow">data:example.com/x</a></p>'
    with app.app_context():
        ticket = db.session.get(Ticket, world.tickets["alice"])
        ticket.body, ticket.body_html, ticket.body_renderer = "data:example.com/x", stale, 1
        reply = db.session.scalars(db.select(Reply).where(
            Reply.ticket_id == ticket.id, Reply.internal.is_(False))).first()
        reply.body, reply.body_html, reply.body_renderer = "data:example.com/y", stale, 1
        reply_id = reply.id
        db.session.commit()
    for who, path in (("agent", f"/tickets/{world.tickets['alice']}"),
                      ("alice", f"/portal/tickets/{world.tickets['alice']}")):
        auth.login(email(who))
        page = client.get(path).get_data(as_text=True)
        assert "data:" in page and "example.com/x" in page
        assert 'href="data:' not in page and 'rel="nofollow">' not in page
        auth.logout()
    result = runner.invoke(args=["rerender-markdown"])
    assert result.exit_code == 0, result.output
    assert "tickets: " in result.output and "replies: " in result.output
    with app.app_context():
        reply = db.session.get(Reply, reply_id)
        assert reply.body_renderer == RENDERER_VERSION and 'href="data:' not in reply.body_html
    again = runner.invoke(args=["rerender-markdown"])
    assert "tickets: 0 rendered again." in again.output
    assert "replies: 0 rendered again." in again.output
