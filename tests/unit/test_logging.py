"""Log lines are rendered and written off the caller's thread, and none is lost at exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_every_line_reaches_stderr_in_order_by_exit_rendered_as_json() -> None:
    script = textwrap.dedent(
        """
        import logging
        from eventplane.observability.logging import configure_logging, get_logger
        configure_logging("json", "INFO")
        log = get_logger("eventplane.test")
        for i in range(2000):
            log.info("line", n=i)
        logging.getLogger("kafka.client").warning("foreign %s", "record")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [e["n"] for e in lines[:-1]] == list(range(2000))  # all of them, in order
    assert lines[-1]["event"] == "foreign record" and lines[-1]["level"] == "warning"
    assert all("timestamp" in e and e["logger"] for e in lines)


def test_an_exception_line_carries_its_traceback() -> None:
    # The line is rendered on the writer thread, where no exception is being handled:
    # the traceback must be taken on the caller's, for structlog and stdlib lines alike.
    script = textwrap.dedent(
        """
        import logging
        from eventplane.observability.logging import configure_logging, get_logger
        configure_logging("json", "INFO")
        try:
            {}["missing-key"]
        except KeyError:
            get_logger("eventplane.test").exception("lookup failed", n=1)
            logging.getLogger("kafka.client").exception("foreign failure")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    ours, foreign = (json.loads(line) for line in done.stderr.splitlines())
    for line in (ours, foreign):
        assert "Traceback (most recent call last)" in line["exception"]
        assert "KeyError: 'missing-key'" in line["exception"]
    assert ours["event"] == "lookup failed" and ours["n"] == 1 and ours["level"] == "error"


def test_the_caller_only_hands_records_over() -> None:
    import logging
    import logging.handlers

    from eventplane.observability.logging import configure_logging

    try:
        configure_logging("json", "INFO")
        (handler,) = logging.getLogger().handlers
        assert isinstance(handler, logging.handlers.QueueHandler)
    finally:
        from eventplane.observability import logging as ep_logging

        ep_logging._stop_writer()
        logging.getLogger().handlers.clear()
