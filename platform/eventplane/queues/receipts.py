"""Receipt handles: opaque, HMAC-signed tokens naming queue, partition, offset and generation.

The queue's incarnation (its creation time) is signed in too, so a handle
from a deleted-and-recreated queue of the same name is refused. Every replica
of a cluster shares the secret (EVENTPLANE_RECEIPT_SECRET).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from eventplane.errors.queues import ReceiptHandleIsInvalid

_VERSION = 1
_FIXED = struct.Struct(">BqHqI")  # version, incarnation, partition, offset, generation
_MAC_BYTES = 16


@dataclass(frozen=True, slots=True)
class Receipt:
    queue: str
    incarnation: int
    partition: int
    offset: int
    generation: int


class ReceiptSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(secret.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, r: Receipt) -> str:
        payload = (
            _FIXED.pack(_VERSION, r.incarnation, r.partition, r.offset, r.generation)
            + r.queue.encode()
        )
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def decode(self, handle: str, queue: str, incarnation: int) -> Receipt:
        """The receipt a handle names; ReceiptHandleIsInvalid if forged, malformed or foreign."""
        invalid = ReceiptHandleIsInvalid(f'The input receipt handle "{handle[:40]}" is invalid.')
        try:
            raw = base64.urlsafe_b64decode(handle + "=" * (-len(handle) % 4))
        except (binascii.Error, ValueError):
            raise invalid from None
        if len(raw) < _FIXED.size + _MAC_BYTES:
            raise invalid
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid
        version, inc, partition, offset, generation = _FIXED.unpack_from(payload)
        name = payload[_FIXED.size :].decode(errors="replace")
        if version != _VERSION or name != queue or inc != incarnation:
            raise invalid
        return Receipt(name, inc, partition, offset, generation)
