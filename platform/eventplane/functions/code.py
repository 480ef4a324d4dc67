"""Function code: storing zip packages on Kafka for every replica (validation: packages.py).

A zip package lives on the compacted topic ``eventplane.fn.code`` keyed
``<function>:<CodeSha256>``; a replica that needs it extracts it once under
``<home>/functions/<function>/<sha-hex>/`` and reuses that folder afterwards. Kafka has
no lookup by key, so each CodeStore follows the topic from the beginning in a background
thread and keeps only ``{key: (partition, offset)}``; ``fetch`` then reads the one record
it needs. A directory package (local development) is never stored: the runner imports
from the folder itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Final

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from eventplane.config import Settings
from eventplane.functions.errors import (
    InvalidParameterValueException,
    InvalidZipFileException,
    ResourceNotFoundException,
    ServiceException,
)
from eventplane.functions.models import sha256_hex
from eventplane.functions.packages import (
    code_sha256,
    extract_zip,
)
from eventplane.kafka import naming
from eventplane.kafka.clients import (
    SEQUENTIAL_READER,
    Producer,
    TopicSpec,
    consumer_config,
    ensure_topics,
)
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.functions.code")

# One record holds one zip plus key and headers; every client and the topic allow this much.
MAX_RECORD_BYTES: Final = 64 * 1024 * 1024
CODE_PARTITIONS: Final = 1
CODE_TOPIC_CONFIG: Final = {
    "cleanup.policy": "compact",
    "max.message.bytes": str(MAX_RECORD_BYTES),
    # A record batch must fit in one segment; the broker's default here is 64 MiB.
    "segment.bytes": str(4 * MAX_RECORD_BYTES),
    # Roll daily so that deleted packages are compacted away within about a day.
    "segment.ms": str(24 * 3600 * 1000),
}
# librdkafka settings for clients that carry code records.
LARGE_RECORD_CONFIG: Final = {
    "message.max.bytes": MAX_RECORD_BYTES,
    "receive.message.max.bytes": MAX_RECORD_BYTES + 1024 * 1024,
}
_LARGE_FETCH_CONFIG: Final = {
    **LARGE_RECORD_CONFIG,
    "fetch.max.bytes": MAX_RECORD_BYTES,
    "max.partition.fetch.bytes": MAX_RECORD_BYTES,
}

# --- the store on Kafka ---------------------------------------------------------------------


def _key(name: str, sha256: str) -> str:
    return f"{name}:{sha256}"


class CodeStore:
    """Zip packages on ``eventplane.fn.code``, extracted on demand into a local cache.

    ``producer`` (the process's shared one) is used for tombstones only: code records need
    a producer whose ``message.max.bytes`` fits 50 MB packages, which CodeStore creates
    itself on the first ``put``.
    """

    def __init__(self, settings: Settings, producer: Producer | None = None) -> None:
        self._settings = settings
        self._producer = producer
        self._code_producer: Producer | None = None
        self._cache = Path(settings.home) / "functions"
        self._lock = threading.Lock()  # start/close, the code producer, the key locks
        self._key_locks: dict[str, threading.Lock] = {}
        self._cond = threading.Condition()  # guards _index and _positions
        self._index: dict[str, tuple[int, int]] = {}
        self._positions: dict[int, int] = {}  # partition -> next offset the follower applies
        self._follower: Consumer | None = None
        self._reader: Consumer | None = None
        self._read_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ensured = False

    # --- lifecycle -------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the compacted code topic if it does not exist yet."""
        ensure_topics(
            self._settings, [TopicSpec(naming.FUNCTION_CODE, CODE_PARTITIONS, CODE_TOPIC_CONFIG)]
        )
        self._ensured = True

    def start(self, timeout: float = 30.0) -> None:
        """ensure(), then follow the topic from the beginning in the background."""
        with self._lock:
            if self._thread is not None:
                return
            self.ensure()
            group = f"{naming.PREFIX}.fn-code.{uuid.uuid4().hex}"
            follower = Consumer(
                consumer_config(
                    self._settings, group, **{**_LARGE_FETCH_CONFIG, "enable.partition.eof": True}
                )
            )
            try:
                partitions = self._partitions(follower, timeout)
            except BaseException:
                follower.close()
                raise
            # One package record after another, each at its offset: SEQUENTIAL_READER.
            self._reader = Consumer(
                consumer_config(
                    self._settings, group, **{**_LARGE_FETCH_CONFIG, **SEQUENTIAL_READER}
                )
            )
            with self._cond:
                self._index = {}
                self._positions = dict.fromkeys(partitions, 0)
            follower.assign(
                [TopicPartition(naming.FUNCTION_CODE, p, OFFSET_BEGINNING) for p in partitions]
            )
            self._follower = follower
            self._stop.clear()
            self._thread = threading.Thread(target=self._follow, name="fn-code", daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(timeout=5.0)
                self._thread = None
            for consumer in (self._follower, self._reader):
                if consumer is not None:
                    consumer.close()
            self._follower = self._reader = None
            if self._code_producer is not None:
                self._code_producer.close()
                self._code_producer = None

    @staticmethod
    def _partitions(consumer: Consumer, timeout: float) -> list[int]:
        deadline = time.monotonic() + timeout
        while True:  # a topic that was just created may not have its metadata everywhere yet
            meta = consumer.list_topics(naming.FUNCTION_CODE, timeout=timeout).topics
            topic = meta.get(naming.FUNCTION_CODE)
            if topic is not None and topic.error is None and topic.partitions:
                return sorted(topic.partitions)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no metadata for {naming.FUNCTION_CODE} in {timeout:g}s")
            time.sleep(0.1)

    # --- the index follower ----------------------------------------------------------------
    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll_once(0.2)
            except Exception:  # never let one bad record stop the index
                _log.exception("code index follower error")

    def _poll_once(self, timeout: float) -> None:
        follower = self._follower
        if follower is None:
            return
        msg = follower.poll(timeout)
        if msg is None:
            return
        err = msg.error()
        partition = msg.partition() or 0
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                # Compaction may leave the last offsets below the end empty: EOF says the
                # follower has seen everything up to here.
                with self._cond:
                    eof = msg.offset() or 0
                    self._positions[partition] = max(self._positions.get(partition, 0), eof)
                    self._cond.notify_all()
            else:
                _log.warning("code index consumer", error=err.str())
            return
        raw = msg.key()
        key = raw.decode() if isinstance(raw, bytes) else str(raw or "")
        offset = msg.offset() or 0
        with self._cond:
            if msg.value() is None:
                self._index.pop(key, None)
            else:
                self._index[key] = (partition, offset)
            self._positions[partition] = max(self._positions.get(partition, 0), offset + 1)
            self._cond.notify_all()

    def _end_offsets(self, timeout: float) -> dict[int, int]:
        assert self._reader is not None
        with self._cond:
            partitions = list(self._positions)
        ends: dict[int, int] = {}
        with self._read_lock:
            for p in partitions:
                tp = TopicPartition(naming.FUNCTION_CODE, p)
                _, high = self._reader.get_watermark_offsets(tp, timeout=timeout, cached=False)
                ends[p] = high
        return ends

    def _wait_caught_up(self, timeout: float) -> bool:
        """Wait until the index covers every record written before this call."""
        deadline = time.monotonic() + timeout
        try:
            ends = self._end_offsets(timeout)
        except KafkaException as exc:
            _log.warning("code topic end offsets", error=str(exc))
            return False
        with self._cond:
            return self._cond.wait_for(
                lambda: all(self._positions.get(p, 0) >= end for p, end in ends.items()),
                timeout=max(0.0, deadline - time.monotonic()),
            )

    def _read(self, partition: int, offset: int, key: str, timeout: float) -> bytes | None:
        """The value at ``partition``/``offset`` if it is still ``key``'s record."""
        assert self._reader is not None
        deadline = time.monotonic() + timeout
        with self._read_lock:
            self._reader.assign([TopicPartition(naming.FUNCTION_CODE, partition, offset)])
            try:
                while time.monotonic() < deadline:
                    msg = self._reader.poll(0.5)
                    if msg is None:
                        continue
                    err = msg.error()
                    if err is not None:
                        _log.warning("code reader", error=err.str())
                        continue
                    if msg.partition() != partition or (msg.offset() or 0) < offset:
                        continue
                    raw = msg.key()
                    found = raw.decode() if isinstance(raw, bytes) else str(raw or "")
                    if msg.offset() != offset or found != key:
                        return None  # compacted away since it was indexed
                    value = msg.value()
                    return bytes(value) if value is not None else None
            finally:
                self._reader.unassign()
        raise ServiceException(
            f"Reading the code package {key} from {naming.FUNCTION_CODE} took more than "
            f"{timeout:g}s"
        )

    # --- public API --------------------------------------------------------------------------
    def _large_producer(self) -> Producer:
        with self._lock:
            if self._code_producer is None:
                self._code_producer = Producer(
                    self._settings,
                    name="eventplane-code",
                    **{**LARGE_RECORD_CONFIG, "compression.type": "none", "linger.ms": 0},
                )
            return self._code_producer

    async def put(self, name: str, sha256: str, data: bytes) -> None:
        """Store a zip package (acks=all) under ``<name>:<sha256>``."""
        if code_sha256(data) != sha256:
            raise ValueError(f"the package's CodeSha256 is not {sha256}")
        if not self._ensured:
            await asyncio.to_thread(self.ensure)
        await self._large_producer().send(naming.FUNCTION_CODE, data, key=_key(name, sha256))

    async def delete(self, name: str, sha256: str) -> None:
        """Tombstone a package; compaction removes it from Kafka later."""
        if not self._ensured:
            await asyncio.to_thread(self.ensure)
        producer = self._producer or self._large_producer()
        await producer.send(naming.FUNCTION_CODE, None, key=_key(name, sha256))

    def local_path(self, name: str, sha256: str) -> str:
        """Where ``fetch`` extracts the package on this machine."""
        return str(self._cache / name / sha256_hex(sha256))

    def installed(self, name: str, sha256: str) -> str | None:
        """The package's local folder if it is already extracted, else None: one stat,
        cheap enough for the event loop (an invoke of a warm function needs no thread)."""
        target = self.local_path(name, sha256)
        return target if os.path.isdir(target) else None

    def fetch(self, name: str, sha256: str, timeout: float = 30.0) -> str:
        """A local folder holding the package, extracted from Kafka on first use.

        Blocking (call it from a worker thread). Waits up to ``timeout`` for the index to
        cover every record written before the call, so a replica that started later still
        finds packages stored by others.
        """
        target = Path(self.local_path(name, sha256))
        if target.is_dir():
            return str(target)
        key = _key(name, sha256)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if target.is_dir():
                return str(target)
            try:
                self.start()
            except (KafkaException, TimeoutError) as exc:
                raise ServiceException(
                    f"The code store cannot read {naming.FUNCTION_CODE}: {exc}"
                ) from None
            deadline = time.monotonic() + timeout
            data: bytes | None = None
            for _ in range(3):  # the indexed record may be compacted away meanwhile
                caught_up = self._wait_caught_up(max(0.0, deadline - time.monotonic()))
                with self._cond:
                    where = self._index.get(key)
                if where is None:
                    if caught_up:
                        raise ResourceNotFoundException(
                            f"The code package {sha256} of function {name} is not in "
                            f"{naming.FUNCTION_CODE}"
                        )
                    raise ServiceException(
                        f"The code index is still loading {naming.FUNCTION_CODE}; the package "
                        f"{sha256} of function {name} is not available yet. Try again."
                    )
                data = self._read(*where, key, max(1.0, deadline - time.monotonic()))
                if data is not None:
                    break
            if data is None:
                raise ServiceException(f"The code package {key} could not be read")
            if code_sha256(data) != sha256:
                raise ServiceException(f"The stored code package {key} does not match its hash")
            self._install(data, target, name)
            return str(target)

    def _install(self, data: bytes, target: Path, name: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            os.chmod(tmp, 0o755)  # mkdtemp's 0o700 would hide it from other users' workers
            try:
                extract_zip(data, tmp)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
                raise InvalidZipFileException(
                    f"Lambda could not unzip the deployment package of function {name}."
                ) from None
            except InvalidParameterValueException as exc:
                raise InvalidZipFileException(exc.message) from None
            try:
                os.rename(tmp, target)  # atomic: readers see all of it or nothing
            except OSError:
                if not target.is_dir():
                    raise
                # Another process of this machine extracted it first.
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    def evict(self, name: str, sha256: str | None = None) -> None:
        """Remove local copies: one package of ``name``, or all of them."""
        path = self._cache / name
        if sha256 is not None:
            path = path / sha256_hex(sha256)
        shutil.rmtree(path, ignore_errors=True)

    def stored(self) -> dict[str, tuple[int, int]]:
        """The index as the follower has it now (``<name>:<sha256>`` -> (partition, offset))."""
        with self._cond:
            return dict(self._index)
