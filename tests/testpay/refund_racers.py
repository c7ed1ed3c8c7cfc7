"""What each racing process runs: real refunds on the processor (set-up in ``tests.racing``).

Kept free of Django imports at module level: a spawned process imports this module before
Django is set up.
"""

from __future__ import annotations

from tests import racing


def refund_race(
    database_name: str, charge_id: str, asks: list[tuple[str, int]], barrier, results
) -> None:
    """Ask the processor for each ``(idempotency_key, amount)`` refund of the charge, every
    process starting together.

    Puts ``(pid, outcomes)`` on ``results``: "refund <id> <status>", "refused <code>" or
    "error: <type>: <message>" per ask.
    """
    racing.run(database_name, barrier, results, _ask, charge_id, asks)


def _ask(start, charge_id: str, asks: list[tuple[str, int]]) -> list[str]:
    from kinfolk.testpay.services import refund_create

    def ask(key: str, amount: int) -> str:
        refund = refund_create(
            charge_id=charge_id, amount=amount, idempotency_key=key, reason="race"
        )
        return f"refund {refund.pk} {refund.status}"

    start()
    return [racing.outcome(ask, key, amount) for key, amount in asks]
