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
