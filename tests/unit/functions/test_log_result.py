"""functions/invoke.py: LogResult, the log tail ``LogType=Tail`` returns, as Lambda writes it."""

from __future__ import annotations

import base64

from eventplane.functions.invoke import LOG_TAIL_BYTES, log_result
from eventplane.functions.worker_process import InvocationResult


def result(tail: str, **kw: object) -> InvocationResult:
    fields: dict[str, object] = {
        "request_id": "r-1",
        "payload": b"null",
        "function_error": None,
        "log_tail": tail,
        "duration_ms": 2.345,
        "cold_start": False,
        "init_ms": None,
        "memory_mb": 256,
        "max_memory_mb": 41,
    }
    fields.update(kw)
    return InvocationResult(**fields)  # type: ignore[arg-type]


def text(encoded: str) -> str:
    return base64.b64decode(encoded).decode()


def test_the_handlers_lines_sit_between_start_end_and_report() -> None:
    assert text(log_result(result("hello\n"), "$LATEST")) == (
        "START RequestId: r-1 Version: $LATEST\n"
        "hello\n"
        "END RequestId: r-1\n"
        "REPORT RequestId: r-1\tDuration: 2.35 ms\tBilled Duration: 3 ms\tMemory Size: 256 MB"
        "\tMax Memory Used: 41 MB\t\n"
    )


def test_a_cold_start_reports_its_init_duration_and_a_version_its_number() -> None:
    log = text(log_result(result("", init_ms=120.5, cold_start=True), "7"))
    assert log.startswith("START RequestId: r-1 Version: 7\nEND RequestId: r-1\n")
    assert log.endswith("\tMax Memory Used: 41 MB\tInit Duration: 120.50 ms\t\n")


def test_output_without_a_final_newline_still_ends_its_line() -> None:
    log = text(log_result(result("no newline"), "$LATEST"))
    assert "\nno newline\nEND RequestId: r-1\n" in log


def test_an_unknown_peak_memory_is_left_out_not_made_up() -> None:
    log = text(log_result(result("", max_memory_mb=None), "$LATEST"))
    assert "Max Memory Used" not in log and "\tMemory Size: 256 MB\t\n" in log


def test_only_the_last_4_kib_are_kept_so_report_always_survives() -> None:
    log = base64.b64decode(log_result(result("x" * 10_000 + "\n"), "$LATEST"))
    assert len(log) == LOG_TAIL_BYTES
    assert log.decode().endswith("\tMax Memory Used: 41 MB\t\n")
    assert "REPORT RequestId: r-1" in log.decode()
