from __future__ import annotations

from eventplane import tracing


def test_metadata_ids_are_kept_or_created() -> None:
    ctx = tracing.trace_from_metadata(
        [(tracing.REQUEST_ID_KEY, "r1"), (tracing.TRACE_ID_KEY, "t1")]
    )
    assert (ctx.request_id, ctx.trace_id) == ("r1", "t1")
    fresh = tracing.trace_from_metadata(None)
    assert fresh.request_id and fresh.trace_id


def test_kafka_headers_carry_the_current_trace() -> None:
    assert tracing.kafka_headers() == []
    ctx = tracing.TraceContext(request_id="r2", trace_id="t2")
    with tracing.use_trace(ctx):
        headers = tracing.kafka_headers()
    assert tracing.trace_from_headers(headers) == ctx
    assert tracing.current_trace() is None
