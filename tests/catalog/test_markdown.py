"""Descriptions are Markdown rendered to HTML that cannot run anything in a fan's browser."""

import pytest

from kinfolk.catalog.markdown import render_markdown
from kinfolk.catalog.services import product_create


def test_markdown_becomes_html():
    html = render_markdown(
        "## Tracklist\n\n1. *Intro*\n2. **Outro**\n\n[Tour](https://example.com)"
    )
    assert "<h2>Tracklist</h2>" in html
    assert "<em>Intro</em>" in html and "<strong>Outro</strong>" in html
    assert '<a href="https://example.com" rel="noopener nofollow ugc">Tour</a>' in html


def test_script_tags_are_removed_with_their_content():
    html = render_markdown("Hello <script>alert('x')</script> fans")
    assert "<script" not in html and "alert" not in html
    assert "Hello" in html and "fans" in html


def test_event_handler_attributes_are_removed():
    html = render_markdown(
        '<img src="https://example.com/a.png" onerror="alert(1)"> <b onclick="x()">hi</b>'
    )
    assert "onerror" not in html and "onclick" not in html and "alert" not in html
    assert '<img src="https://example.com/a.png">' in html
    assert "<b>hi</b>" in html


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<a href="JaVaScRiPt:alert(1)">click</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">click</a>',
    ],
)
def test_javascript_and_data_links_lose_their_target(text):
    html = render_markdown(text)
    assert "javascript" not in html.lower() and "data:" not in html
    assert "click" in html


def test_unlisted_tags_and_styles_are_dropped():
    html = render_markdown('<iframe src="https://evil.example"></iframe><p style="color:red">x</p>')
    assert "iframe" not in html and "style" not in html


@pytest.mark.django_db
def test_a_product_stores_the_sanitised_html(shop):
    product = product_create(
        shop=shop, name="Zine", price=1, description="<script>x()</script>*ok*"
    )
    assert product.description_html.strip() == "<p><em>ok</em></p>"
    assert product.description == "<script>x()</script>*ok*"
