"""``python -m kinfolk``: the same as the ``kinfolk`` command."""

from kinfolk.cli import main

main()
