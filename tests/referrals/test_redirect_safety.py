"""The share-link redirect stays on this site, whatever the path starts with."""

from __future__ import annotations

import pytest

from kinfolk.referrals.models import ShareVisit
from tests.referrals.conftest import BROWSER

pytestmark = pytest.mark.django_db


def _get(client, path: str, query: str):
    # The test client reads "//host/x" as a host: the raw path goes in PATH_INFO.
    return client.get("/", PATH_INFO=path, QUERY_STRING=query, HTTP_USER_AGENT=BROWSER)


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("//evil.example/x", "/evil.example/x?page=2"),
        ("/\\evil.example/x", "/evil.example/x?page=2"),
        ("/\\/evil.example/x", "/evil.example/x?page=2"),
        ("/\t/evil.example/x", "/evil.example/x?page=2"),
        ("///evil.example", "/evil.example?page=2"),
    ],
)
def test_a_path_that_reads_as_another_host_is_redirected_on_this_site(client, path, location):
    # Given a request whose path a browser would take for another host, with a share code
    # When the share parameters are stripped
    response = _get(client, path, "via=abcd1234&page=2")

    # Then the answer points at a path of this site, never at a scheme-relative address
    assert response.status_code == 302
    assert response["Location"] == location
    assert not response["Location"].startswith(("//", "/\\"))


def test_a_shop_page_behind_extra_slashes_still_counts_the_visit(client, shop, link):
    # Given a fan's link pasted with a doubled slash
    response = _get(client, f"//{shop.slug}/", f"via={link.code}")

    # Then the visit counts and the friend lands on the shop's own page
    assert response.status_code == 302
    assert response["Location"] == f"/{shop.slug}/"
    assert ShareVisit.objects.filter(link=link).count() == 1
