"""TumblingWindowInSeconds on a real server: the handler's state carried from batch to
batch within a window, a final invocation whose state holds the window's total, the
field shown and validated, and a SIGKILL mid-window resuming with the saved state."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from .support import FUNCTIONS_ENV, Resources, json_lines
from .test_stream_mappings import STREAMS, S, Tables, stream_mapping, table_of
from .test_stream_mappings import tables as tables  # the fixture

pytestmark = pytest.mark.integration


def counter(res: Resources, state: Path) -> str:
    return res.function(
        "stream_handlers.count",
        package=STREAMS,
        environment={"STATE_DIR": str(state)},
        timeout=30,
    )


def seen(state: Path) -> list[dict[str, Any]]:
    return json_lines(state / "windows.jsonl")


def test_state_is_carried_within_a_window_and_the_final_invoke_has_the_total(
    client: Client, res: Resources, tables: Tables, tmp_path: Path
) -> None:
    arn = tables.make()
    name = table_of(arn)
    fn = counter(res, tmp_path)
    uuid_ = stream_mapping(res, arn, fn, batch_size=1, tumbling_window_in_seconds=3)
    m = client.functions.get_event_source_mapping(uuid_)
    assert m.stream is not None and m.stream.tumbling_window_in_seconds == 3
    listed = client.functions.list_event_source_mappings(function_name=fn)
    assert [x.stream.tumbling_window_in_seconds for x in listed if x.stream] == [3]
    total = 6
    for i in range(total):
        client.tables.put_item(name, {"pk": S(f"k{i}"), "v": S("1")})

    def all_windows_closed() -> list[dict[str, Any]]:
        events = seen(tmp_path)
        finals = [e for e in events if e["isFinalInvokeForWindow"]]
        assert sum(e["state"].get("count", 0) for e in finals) == total, events
        return events

    events = eventually(all_windows_closed, timeout=60)
    per_window: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        assert e["shardId"] and e["eventSourceARN"] == arn
        assert e["isWindowTerminatedEarly"] is False
        per_window[e["window"]["start"]].append(e)
    carried = False
    for window_events in per_window.values():
        batches = [e for e in window_events if not e["isFinalInvokeForWindow"]]
        finals = [e for e in window_events if e["isFinalInvokeForWindow"]]
        assert len(finals) == 1 and window_events[-1] is finals[0]
        assert finals[0]["seqs"] == []
        # Each batch gets the count of the window's batches before it.
        for n, e in enumerate(batches):
            assert e["state"] == ({} if n == 0 else {"count": n}), window_events
            carried = carried or n > 0
        assert finals[0]["state"] == {"count": len(batches)}
    assert carried  # 6 records, at most 2 windows of 3 s: some window had several


def test_tumbling_window_is_validated(
    client: Client, res: Resources, tables: Tables, tmp_path: Path
) -> None:
    arn = tables.make()
    fn = counter(res, tmp_path)
    for bad in (-1, 901):
        with pytest.raises(EventplaneError) as err:
            client.functions.create_event_source_mapping(
                arn, fn, starting_position="LATEST", tumbling_window_in_seconds=bad
            )
        assert err.value.code == "InvalidParameterValueException"
        assert "TumblingWindowInSeconds" in err.value.message
    queue = res.queue()
    with pytest.raises(EventplaneError) as err:
        client.functions.create_event_source_mapping(queue.arn, fn, tumbling_window_in_seconds=30)
    assert err.value.code == "InvalidParameterValueException"
    assert "TumblingWindowInSeconds" in err.value.message
    uuid_ = stream_mapping(res, arn, fn, starting_position="LATEST", enabled=False)
    m = client.functions.update_event_source_mapping(uuid_, tumbling_window_in_seconds=900)
    assert m.stream is not None and m.stream.tumbling_window_in_seconds == 900


def test_sigkill_mid_window_resumes_with_the_saved_state(
    eventplane_kafka: str, tmp_path: Path
) -> None:
    """One server of its own cluster (it is killed); a 900 s window, one record a batch."""
    cluster = unique_cluster()
    server = EventplaneProcess(eventplane_kafka, env=FUNCTIONS_ENV, cluster=cluster).start()
    try:
        with server.client(timeout=30) as client:
            res = Resources(client)
            arn = Tables(client).make()
            name = table_of(arn)
            fn = counter(res, tmp_path)
            stream_mapping(res, arn, fn, batch_size=1, tumbling_window_in_seconds=900)
            for i in range(4):
                client.tables.put_item(name, {"pk": S(f"a{i}"), "v": S("1")})
            eventually(lambda: _assert_len(seen(tmp_path), 4), timeout=60)
        server.kill()
        before = seen(tmp_path)
        server.restart()
        with server.client(timeout=30) as client:
            client.tables.put_item(name, {"pk": S("after"), "v": S("1")})
            eventually(
                lambda: _assert_any(seen(tmp_path), lambda e: e["keys"] == ["after"]),
                timeout=90,
            )
            after = seen(tmp_path)[len(before) :]
            first = after[0]
            if first["window"]["start"] == before[-1]["window"]["start"]:
                # The same window: its state came back from the checkpoint, not {} again
                # (the last batch before the kill may run once more, with the state before it).
                assert first["state"].get("count", 0) >= 3, (before, after)
            client.tables.delete_table(name)
            for m in client.functions.list_event_source_mappings(function_name=fn):
                client.functions.delete_event_source_mapping(m.uuid)
    finally:
        server.stop()


def _assert_len(items: list[Any], n: int) -> bool:
    assert len(items) >= n, len(items)
    return True


def _assert_any(items: list[dict[str, Any]], check: Any) -> bool:
    assert any(check(e) for e in items), items
    return True
