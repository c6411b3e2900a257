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
