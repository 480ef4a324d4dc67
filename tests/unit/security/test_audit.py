"""The audit line: every field, on ``eventplane.audit``, in order; denials counted."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

from eventplane.errors.security import AccessDeniedException
from eventplane.security import authorize
from eventplane.security.authorize import AUTH_DENIED, Outcome, audit
from eventplane.security.tokens import Principal

FIELDS = {"principal", "account", "via", "method", "action", "resource", "request_id", "outcome"}


def test_audit_lines_carry_every_field_in_order_with_other_lines() -> None:
    script = textwrap.dedent(
        """
        from eventplane.errors.security import AccessDeniedException
        from eventplane.observability.logging import configure_logging, get_logger
        from eventplane.security.authorize import AUTH_DENIED, Outcome, audit
        from eventplane.security.tokens import Principal
        from eventplane.tracing import TraceContext, use_trace
        configure_logging("json", "INFO")
        log = get_logger("eventplane.test")
        ci = Principal(name="ci", account="123456789012")
        queue = "arn:aws:sqs:local:123456789012:orders"
        log.info("before")
        audit(ci, "/eventplane.v1.Queues/SendMessage", Outcome("sqs:SendMessage", queue), "r-1")
        with use_trace(TraceContext(request_id="r-2", trace_id="t-2")):
            denied = Outcome("sqs:PurgeQueue", queue, AccessDeniedException("no"))
            audit(ci, "/eventplane.v1.Queues/PurgeQueue", denied, "r-2")
        log.info("after")
        print(AUTH_DENIED.labels("sqs:PurgeQueue")._value.get())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [e["event"] for e in lines] == ["before", "call allowed", "access denied", "after"]
    allowed, denied = lines[1], lines[2]
    for line in (allowed, denied):
        assert set(line) >= FIELDS
        assert line["logger"] == "eventplane.audit" and line["level"] == "info"
        assert line["timestamp"].endswith("Z")
        assert (line["principal"], line["account"], line["via"]) == ("ci", "123456789012", "token")
        assert line["resource"] == "arn:aws:sqs:local:123456789012:orders"
    assert (allowed["action"], allowed["outcome"], allowed["request_id"]) == (
        "sqs:SendMessage",
        "allowed",
        "r-1",
    )
    assert allowed["method"] == "/eventplane.v1.Queues/SendMessage"
    assert (denied["action"], denied["outcome"], denied["request_id"]) == (
        "sqs:PurgeQueue",
        "denied",
        "r-2",
    )
    assert denied["trace_id"] == "t-2"
    assert float(done.stdout.strip()) == 1.0  # eventplane_auth_denied_total{action=...}


def test_a_denial_is_counted() -> None:
    counter = AUTH_DENIED.labels("sqs:DeleteQueue")
    before = counter._value.get()
    outcome = Outcome("sqs:DeleteQueue", "arn:aws:sqs:local:0:q", AccessDeniedException("no"))
    audit(Principal(name="ci"), "/eventplane.v1.Queues/DeleteQueue", outcome, "r-3")
    assert counter._value.get() == before + 1
    audit(Principal(name="ci"), "/eventplane.v1.Queues/DeleteQueue", Outcome("x", "y"), "r-4")
    assert counter._value.get() == before + 1  # an allowed call is not a denial


def test_a_listener_on_the_audit_logger_still_gets_every_line() -> None:
    from eventplane.observability import logging as ep_logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    listener = Keep()
    audit_logger = logging.getLogger("eventplane.audit")
    try:
        ep_logging.configure_logging("json", "INFO")
        assert authorize._audit._direct() is not None  # straight to the writer thread
        audit_logger.addHandler(listener)
        assert authorize._audit._direct() is None  # through structlog, to the listener too
        outcome = Outcome("sqs:SendMessage", "arn:aws:sqs:local:0:q")
        audit(Principal(name="ci"), "/eventplane.v1.Queues/SendMessage", outcome, "r-5")
    finally:
        audit_logger.removeHandler(listener)
        ep_logging._stop_writer()
        logging.getLogger().handlers.clear()
    (record,) = records
    assert isinstance(record.msg, dict)
    assert set(record.msg) >= FIELDS and record.msg["request_id"] == "r-5"
