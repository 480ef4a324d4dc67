"""The bus coordinator: fires scheduled rules and runs replays, on one replica at a time.

Leadership: every replica joins the consumer group ``eventplane.bus.coordinator`` on the
single-partition, compacted ``eventplane.bus.state`` topic; the one assigned the
partition leads. A new leader first calls ``init_transactions`` with the one shared
transactional id, which fences the previous leader and aborts its open transaction, and
only then reads the state topic to its end (read_committed). From then on each tick of a
schedule, and each chunk of a replay, is one transaction holding both the events it
writes to the bus and the state record saying it happened. So a tick fires exactly once
and a replayed event is re-sent exactly once, however leadership moves.

After downtime a schedule fires its latest missed tick once (not every missed tick), then
continues on time.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka import Producer as RawProducer

from eventplane.bus import metrics
from eventplane.bus.entries import envelope
from eventplane.bus.models import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    FAILED,
    RUNNING,
    STARTING,
    STATE_SCHEMA,
    BusEvent,
    ReplayDef,
    RuleDef,
    decode_event,
    encode_event,
)
from eventplane.config import Settings
from eventplane.kafka import codec, naming
from eventplane.kafka.clients import client_config, consumer_config, take
from eventplane.observability.logging import get_logger

_log = get_logger("eventplane.bus.coordinator")

STATE_TOPIC = f"{naming.PREFIX}.bus.state"
COORDINATOR_GROUP = f"{naming.PREFIX}.bus.coordinator"
TRANSACTIONAL_ID = f"{naming.PREFIX}-bus-coordinator"
REPLAY_CHUNK = 500
_Out = tuple[str, bytes | None, list[tuple[str, bytes]], str | None]  # topic, value, headers, key
CLEANUP_INTERVAL_S = 60.0
CATCH_UP_LIMIT = 100_000  # ticks walked to find the latest missed one


@dataclass
class _State:
    last_tick_ms: int | None = None
    positions: dict[int, tuple[int, int]] = field(default_factory=dict)  # partition: (next, end)
    events_replayed: int = 0
    last_replayed_ms: int = 0

    def encode(self) -> tuple[bytes, list[tuple[str, bytes]]]:
        return codec.encode(
            STATE_SCHEMA,
            {
                "last_tick_ms": self.last_tick_ms,
                "positions": [
                    {"partition": p, "next_offset": n, "end_offset": e}
                    for p, (n, e) in sorted(self.positions.items())
                ],
                "events_replayed": self.events_replayed,
                "last_replayed_ms": self.last_replayed_ms,
            },
        )

    @staticmethod
    def decode(value: bytes, headers: Any) -> _State:
        _, rec = codec.decode(value, headers)
        return _State(
            rec["last_tick_ms"],
            {p["partition"]: (p["next_offset"], p["end_offset"]) for p in rec["positions"]},
            rec["events_replayed"],
            rec["last_replayed_ms"],
        )


class Coordinator:
    def __init__(
        self,
        settings: Settings,
        *,
        instance_id: str,
        scheduled_rules: Callable[[], list[RuleDef]],
        active_replays: Callable[[], list[ReplayDef]],
        save_replay: Callable[[ReplayDef], None],
        archive_exists: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._instance = instance_id
        self._scheduled_rules = scheduled_rules
        self._active_replays = active_replays
        self._save_replay = save_replay
        self._archive_exists = archive_exists
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-coordinator", daemon=True)
        self._assigned = threading.Event()
        self._producer: RawProducer | None = None
        self._state: dict[str, _State] = {}
        self._readers: dict[str, Consumer] = {}
        self._cleaned_at = 0.0

    @property
    def leading(self) -> bool:
        return self._producer is not None

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- leadership ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:
                _log.exception("bus coordinator failed; restarting in 1 s")
                self._stop.wait(1.0)
            finally:
                self._resign()

    def _run_once(self) -> None:
        group = Consumer(
            consumer_config(
                self._settings,
                COORDINATOR_GROUP,
                **{
                    "client.id": f"eventplane-bus-coordinator|{self._instance}",
                    "session.timeout.ms": 6000,
                    "heartbeat.interval.ms": 1000,
                    "enable.auto.commit": False,
                },
            )
        )

        def on_assign(consumer: Any, partitions: list[TopicPartition]) -> None:
            if partitions:
                self._assigned.set()

        def on_revoke(consumer: Any, partitions: list[TopicPartition]) -> None:
            self._assigned.clear()
            self._resign()

        group.subscribe([STATE_TOPIC], on_assign=on_assign, on_revoke=on_revoke)
        try:
            while not self._stop.is_set():
                group.poll(0.05)  # keeps the membership; the records are read by _load
                if not self._assigned.is_set():
                    continue
                if self._producer is None:
                    self._lead()
                try:
                    self._tick()
                except KafkaException as exc:
                    _log.warning("coordinator transaction failed; leading anew", error=str(exc))
                    self._resign()
        finally:
            group.close()

    def _lead(self) -> None:
        producer = RawProducer(
            client_config(
                self._settings,
                **{
                    "transactional.id": TRANSACTIONAL_ID,
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 1,
                    "transaction.timeout.ms": 10000,
                    "message.timeout.ms": 9000,
                },
            )
        )
        producer.init_transactions(30)  # fences the previous leader first ...
        self._state = self._load()  # ... then its committed state is final
        self._producer = producer
        _log.info("leading the bus coordinator", instance=self._instance, states=len(self._state))

    def _resign(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(KafkaException):
                producer.abort_transaction(5)
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

    def _load(self) -> dict[str, _State]:
        reader = self._reader()
        try:
            tp = TopicPartition(STATE_TOPIC, 0)
            low, high = reader.get_watermark_offsets(tp, timeout=10)
            state: dict[str, _State] = {}
            if high <= low:
                return state
            reader.assign([TopicPartition(STATE_TOPIC, 0, OFFSET_BEGINNING)])
            position = low
            while position < high:
                batch: list[Any] = take(reader, 500, 1.0)
                for m in batch:
                    if m.error() is not None:
                        continue
                    position = m.offset() + 1
                    key = m.key().decode()
                    if m.value() is None:
                        state.pop(key, None)
                    else:
                        state[key] = _State.decode(m.value(), m.headers() or [])
                # Aborted transactions leave offsets that read_committed never returns.
                committed_end = reader.position([tp])[0].offset
                if committed_end >= high:
                    break
            return state
        finally:
            reader.close()

    def _reader(self) -> Consumer:
        return Consumer(
            consumer_config(
                self._settings,
                f"{naming.PREFIX}.bus.reader.{uuid.uuid4().hex[:12]}",
                **{"enable.auto.commit": False, "isolation.level": "read_committed"},
            )
        )

    def _commit(self, records: list[_Out]) -> None:
        producer = self._producer
        assert producer is not None
        # A failure raises KafkaException: the caller resigns, which aborts the transaction.
        producer.begin_transaction()
        for topic, value, headers, key in records:
            kwargs: dict[str, Any] = {"headers": headers}
            if key is not None:
                kwargs["key"] = key
            producer.produce(topic, value, **kwargs)
        producer.commit_transaction(30)

    # --- work -----------------------------------------------------------------------------
    def _tick(self) -> None:
        now_ms = int(self._clock() * 1000)
        rules = self._scheduled_rules()
        for rule in rules:
            self._fire(rule, now_ms)
        replays = self._active_replays()
        for replay in replays:
            self._replay(replay)
        if now_ms / 1000 - self._cleaned_at >= CLEANUP_INTERVAL_S:
            self._cleaned_at = now_ms / 1000
            live = {f"schedule/{r.key}" for r in rules} | {f"replay/{r.name}" for r in replays}
            self._forget([key for key in self._state if key not in live])

    def _forget(self, keys: list[str]) -> None:
        """Tombstone the state of deleted or disabled schedules and finished replays.

        Safe for a disabled rule too: enabling it again restarts its schedule from then.
        """
        if not keys:
            return
        self._commit([(STATE_TOPIC, None, [], key) for key in keys])
        for key in keys:
            self._state.pop(key, None)

    def _fire(self, rule: RuleDef, now_ms: int) -> None:
        schedule = rule.schedule
        if schedule is None or not rule.enabled:
            return
        key = f"schedule/{rule.key}"
        last = self._state.get(key, _State()).last_tick_ms
        after = max(last or 0, rule.created_ms, rule.schedule_since_ms)
        tick = schedule.next_after(after)
        if tick is None or tick > now_ms:
            return
        for _ in range(CATCH_UP_LIMIT):  # the latest tick that is due, fired once
            following = schedule.next_after(tick)
            if following is None or following > now_ms:
                break
            tick = following
        event = envelope(
            source="aws.events",
            detail_type="Scheduled Event",
            detail={},
            resources=[rule.arn],
            time_ms=tick,
            account=rule.account,
        )
        value, headers = encode_event(BusEvent(event, now_ms, scheduled_rule=rule.name))
        state = _State(last_tick_ms=tick)
        state_value, state_headers = state.encode()
        self._commit(
            [
                (naming.bus_topic(rule.bus), value, headers, None),
                (STATE_TOPIC, state_value, state_headers, key),
            ]
        )
        self._state[key] = state
        metrics.SCHEDULE_FIRES.labels(rule.bus, rule.name).inc()
        _log.info("scheduled rule fired", rule=rule.arn, tick=event["time"])

    def _replay(self, replay: ReplayDef) -> None:
        key = f"replay/{replay.name}"
        if replay.state == CANCELLING:
            self._finish(replay, CANCELLED, "Replay cancelled by the user")
            return
        if not self._archive_exists(replay.archive):
            self._finish(replay, FAILED, f"Archive {replay.archive} no longer exists")
            return
        state = self._state.get(key)
        if state is None or replay.state == STARTING:
            state = state or self._plan(replay)
            self._save_state(key, state)
            self._save_replay(
                replace(
                    replay,
                    state=RUNNING,
                    replay_start_ms=replay.replay_start_ms or int(self._clock() * 1000),
                )
            )
            return
        remaining = {p: (n, e) for p, (n, e) in state.positions.items() if n < e}
        if not remaining:
            self._finish(replay, COMPLETED, "", state)
            return
        self._replay_chunk(replay, key, state, remaining)

    def _plan(self, replay: ReplayDef) -> _State:
        """Where to start and stop in each archive partition; the end is fixed at start."""
        topic = naming.archive_topic(replay.archive)
        reader = self._reader()
        try:
            metadata = reader.list_topics(topic, timeout=10)
            partitions = sorted(metadata.topics[topic].partitions)
            starts = reader.offsets_for_times(
                [TopicPartition(topic, p, replay.start_ms) for p in partitions], timeout=10
            )
            positions: dict[int, tuple[int, int]] = {}
            for tp in starts:
                low, high = reader.get_watermark_offsets(
                    TopicPartition(topic, tp.partition), timeout=10
                )
                start = tp.offset if tp.offset >= 0 else high
                positions[tp.partition] = (max(start, low), high)
            return _State(positions=positions)
        finally:
            reader.close()

    def _replay_chunk(
        self, replay: ReplayDef, key: str, state: _State, remaining: dict[int, tuple[int, int]]
    ) -> None:
        topic = naming.archive_topic(replay.archive)
        reader = self._readers.get(replay.name)
        if reader is None:
            reader = self._readers[replay.name] = self._reader()
            reader.assign([TopicPartition(topic, p, n) for p, (n, _) in remaining.items()])
        positions = dict(state.positions)
        records = []
        replayed = 0
        last_ms = state.last_replayed_ms
        now_ms = int(self._clock() * 1000)
        chunk: list[Any] = take(reader, REPLAY_CHUNK, 0.2)
        for m in chunk:
            if m.error() is not None:
                continue
            p = m.partition()
            nxt, end = positions[p]
            if m.offset() < nxt or m.offset() >= end:
                continue
            positions[p] = (m.offset() + 1, end)
            archived = decode_event(m.value(), m.headers() or [])
            if not replay.start_ms <= archived.ingestion_ms < replay.end_ms:
                continue
            event = {**archived.event, "replay-name": replay.name}
            value, headers = encode_event(
                BusEvent(event, now_ms, replay_name=replay.name, rule_filter=replay.rules)
            )
            records.append((naming.bus_topic(replay.bus), value, headers, None))
            replayed += 1
            last_ms = max(last_ms, archived.ingestion_ms)
        # Offsets the reader skipped (aborted transactions, compaction) still count as read.
        for tp in reader.position([TopicPartition(topic, p) for p in remaining]):
            if tp.offset >= 0:
                nxt, end = positions[tp.partition]
                positions[tp.partition] = (max(nxt, min(tp.offset, end)), end)
        if positions == state.positions:
            return
        new_state = _State(None, positions, state.events_replayed + replayed, last_ms)
        value, headers = new_state.encode()
        self._commit([*records, (STATE_TOPIC, value, headers, key)])
        self._state[key] = new_state
        metrics.REPLAYED.labels(replay.name).inc(replayed)
        metrics.REPLAY_REMAINING.labels(replay.name).set(
            sum(max(0, e - n) for n, e in positions.values())
        )
        self._save_replay(
            replace(
                replay,
                state=RUNNING,
                events_replayed=new_state.events_replayed,
                last_replayed_ms=last_ms,
            )
        )

    def _save_state(self, key: str, state: _State) -> None:
        value, headers = state.encode()
        self._commit([(STATE_TOPIC, value, headers, key)])
        self._state[key] = state

    def _finish(
        self, replay: ReplayDef, final: str, reason: str, state: _State | None = None
    ) -> None:
        reader = self._readers.pop(replay.name, None)
        if reader is not None:
            reader.close()
        done = replace(
            replay,
            state=final,
            state_reason=reason,
            replay_end_ms=int(self._clock() * 1000),
            events_replayed=state.events_replayed if state else replay.events_replayed,
            last_replayed_ms=state.last_replayed_ms if state else replay.last_replayed_ms,
        )
        self._save_replay(done)
        metrics.REPLAY_REMAINING.labels(replay.name).set(0)
        _log.info("replay finished", replay=replay.name, state=final, events=done.events_replayed)
