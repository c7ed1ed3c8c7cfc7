"""A per-process counter of catalogue changes, for caches of what the catalogue shows.

The catalogue services call ``catalog_changed()`` whenever a product, variant, image or stock
level changes; a cache that puts ``catalog_generation()`` in its keys never serves a page from
before a change made in this process. It is a counter in memory, not shared between processes:
a cache relying on it must also expire on its own (see the storefront's product page).
"""

from __future__ import annotations

import itertools

from django.db import transaction

_counter = itertools.count(1)
_generation = 0


def _bump() -> None:
    global _generation
    _generation = next(_counter)


def catalog_changed() -> None:
    """Mark the catalogue as changed now and again when the current transaction commits.

    Now, so that this request's own reads miss; on commit, so that a page rendered by another
    thread between the write and the commit is not kept as the new state.
    """
    _bump()
    transaction.on_commit(_bump)


def catalog_generation() -> int:
    """Return the number of the latest change seen by this process."""
    return _generation
