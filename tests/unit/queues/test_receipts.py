from __future__ import annotations

import pytest

from eventplane.errors.queues import ReceiptHandleIsInvalid
from eventplane.queues.receipts import Receipt, ReceiptSigner

SIGNER = ReceiptSigner("a-secret-of-16-chars")
R = Receipt(queue="orders", incarnation=42, partition=3, offset=1234, generation=7)


def test_round_trip() -> None:
    assert SIGNER.decode(SIGNER.encode(R), "orders", 42) == R


@pytest.mark.parametrize(
    ("handle", "queue", "incarnation"),
    [
        ("not-a-handle", "orders", 42),
        ("", "orders", 42),
        (SIGNER.encode(R)[:-2] + "AA", "orders", 42),  # tampered signature
        (SIGNER.encode(R), "payments", 42),  # another queue
        (SIGNER.encode(R), "orders", 43),  # the queue was deleted and created again
        (ReceiptSigner("another-secret-here").encode(R), "orders", 42),  # forged
    ],
)
def test_invalid_handles_are_refused(handle: str, queue: str, incarnation: int) -> None:
    with pytest.raises(ReceiptHandleIsInvalid):
        SIGNER.decode(handle, queue, incarnation)
