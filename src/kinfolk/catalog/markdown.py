"""Markdown descriptions rendered to HTML that is safe to show (nh3 removes scripts and handlers)."""

import markdown
import nh3

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "code",
    "pre",
    "hr",
    "img",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


def render_markdown(text: str) -> str:
    """Return sanitised HTML for Markdown ``text``."""
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow ugc",
    )
