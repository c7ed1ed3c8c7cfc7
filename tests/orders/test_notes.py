"""System notes in an order's history are stored in English and read in the reader's language."""

from __future__ import annotations

from django.utils import translation

from kinfolk.orders.notes import order_note_display, payment_declined_note


def test_a_declined_payment_note_keeps_the_processor_code_and_reads_in_each_language():
    """Given a decline for insufficient funds, the stored note names the code; an English and a
    Korean reader each see it in words; a note staff typed is shown as typed."""
    note = payment_declined_note("insufficient_funds")
    assert note == "Payment declined (insufficient_funds)"

    with translation.override("en"):
        assert order_note_display(note) == "Payment declined (insufficient funds)"
    with translation.override("ko"):
        korean = order_note_display(note)
        assert "잔액" in korean and "insufficient" not in korean
        assert order_note_display("Transfer 0412") == "Transfer 0412"
        assert order_note_display("Payment received") != "Payment received"


def test_a_code_nobody_knows_is_shown_in_plain_words_and_junk_is_not_stored():
    assert (
        order_note_display("Payment declined (do_not_honor)") == "Payment declined (do not honor)"
    )
    assert payment_declined_note("<script>") == "Payment declined (declined)"
    assert payment_declined_note("") == "Payment declined (declined)"


def test_a_note_another_app_writes_into_the_history_reads_in_each_language():
    """Given the drops app's note for an order refunded because every copy had gone, a Korean
    reader sees it in Korean."""
    from kinfolk.drops.services.checkout import SOLD_OUT_REFUND_NOTE

    with translation.override("ko"):
        assert order_note_display(SOLD_OUT_REFUND_NOTE) != SOLD_OUT_REFUND_NOTE
