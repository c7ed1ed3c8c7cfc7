"""Bringing a shop's history in from Shopify, Bandcamp or any CSV (``kinfolk import`` and the
dashboard's upload).

One module per kind of file (``shopify``, ``bandcamp``, ``generic``) turns lines into orders,
customers and rejected lines; ``source`` reads the file as a stream, ``writer`` writes in
batches, ``service`` runs an import and keeps its ``ImportRun``, ``command`` is the command line.
Each reader's docstring says what its file's columns become and what is decided for refunds,
lines without an e-mail address and other currencies (rejected: amounts are never converted).
Refunds in a later file reach the orders imported before (``writer``); lines of people erased
from the shop at their request are left out, and the report lists them apart.

Nothing is imported here, so that the command line parses its arguments before Django is set
up: callers import from ``kinfolk.crm.imports.service``.
"""
