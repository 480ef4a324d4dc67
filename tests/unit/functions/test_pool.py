"""WorkerPool against real worker processes running the handlers in ./handlers."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prometheus_client import REGISTRY

from eventplane.functions.pool import FunctionSpec, InvocationResult, Throttled, WorkerPool

HANDLERS = str(Path(__file__).with_name("handlers"))
T = TypeVar("T")


def spec(handler: str, *, name: str | None = None, **changes: Any) -> FunctionSpec:
    base = FunctionSpec(
        name=name or handler.replace(".", "-"),
        version="$LATEST",
        handler=handler,
        code_dir=HANDLERS,
        code_id="sha-1",
        timeout_s=5.0,
        memory_mb=128,
        environment={},
    )
    return replace(base, **changes)


class Logs:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def __call__(self, function: str, request_id: str, line: str) -> None:
        self.lines.append((function, request_id, line))

    def of(self, request_id: str) -> list[str]:
        return [line for _, rid, line in self.lines if rid == request_id]


def run(body: Callable[[WorkerPool], Awaitable[T]], **pool_args: Any) -> T:
    async def main() -> T:
        pool = WorkerPool(base_env={"EVENTPLANE_ENDPOINT": "127.0.0.1:1"}, **pool_args)
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


async def call(
    pool: WorkerPool, fs: FunctionSpec, event: Any = None, *, rid: str = "r1", **kw: Any
) -> InvocationResult:
    payload = b"" if event is None else json.dumps(event).encode()
    return await pool.invoke(fs, payload, request_id=rid, **kw)


def doc(result: InvocationResult) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(result.payload)
    return loaded


# -- results and context -----------------------------------------------------------------


def test_success_returns_the_json_result_and_reuses_the_warm_worker() -> None:
    async def body(pool: WorkerPool) -> tuple[InvocationResult, InvocationResult]:
        fs = spec("app.echo")
        return await call(pool, fs, {"a": [1, 2]}, rid="r1"), await call(pool, fs, rid="r2")

    first, second = run(body)
    assert first.function_error is None
    assert doc(first)["event"] == {"a": [1, 2]}
    assert first.cold_start and first.init_ms is not None and first.init_ms > 0
    assert doc(second)["event"] is None  # an empty payload is null
    assert not second.cold_start and second.init_ms is None
    assert doc(second)["pid"] == doc(first)["pid"]
    assert second.duration_ms >= 0


def test_a_dotted_handler_module() -> None:
    result = run(lambda pool: call(pool, spec("pkg.sub.mod.handler"), "x"))
    assert result.function_error is None
    assert json.loads(result.payload) == "dotted:x"


def test_context_attributes() -> None:
    fs = spec("app.context_info", name="ctx", version="7", memory_mb=256, timeout_s=2.0)
    fs = replace(fs, arn="arn:aws:lambda:local:000000000000:function:ctx:live")
    result = run(lambda pool: call(pool, fs, rid="req-9", client_context='{"custom": {"k": 1}}'))
    ctx = doc(result)
    assert ctx["aws_request_id"] == ctx["request_id"] == "req-9"
    assert (ctx["function_name"], ctx["function_version"]) == ("ctx", "7")
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:local:000000000000:function:ctx:live"
    assert ctx["memory_limit_in_mb"] == "256"  # a string, as in the Lambda Python runtime
    assert ctx["log_group_name"] == "/aws/lambda/ctx"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[7\][0-9a-f]{32}", ctx["log_stream_name"])
    assert ctx["client_context"] == {"k": 1}
    first, second = ctx["remaining"]
    assert 1500 < first <= 2000
    assert second <= first - 40


def test_environment_is_minimal_plus_function_and_lambda_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVENTPLANE_TEST_PARENT_ONLY", "leak")
    keys = [
        "GREETING",
        "EVENTPLANE_ENDPOINT",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_REGION",
        "_HANDLER",
        "LAMBDA_TASK_ROOT",
        "EVENTPLANE_TEST_PARENT_ONLY",
    ]
    fs = spec("app.environment", name="env-fn", environment={"GREETING": "hi"})
    env = doc(run(lambda pool: call(pool, fs, {"keys": keys})))
    assert env == {
        "GREETING": "hi",
        "EVENTPLANE_ENDPOINT": "127.0.0.1:1",
        "AWS_LAMBDA_FUNCTION_NAME": "env-fn",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "local",
        "_HANDLER": "app.environment",
        "LAMBDA_TASK_ROOT": HANDLERS,
        "EVENTPLANE_TEST_PARENT_ONLY": None,
    }


def test_a_handler_can_import_the_eventplane_sdk() -> None:
    result = run(lambda pool: call(pool, spec("app.use_client")))
    assert result.function_error is None
    assert json.loads(result.payload) == "Client"


# -- function errors ---------------------------------------------------------------------


def test_an_exception_is_a_handled_error_document() -> None:
    result = run(lambda pool: call(pool, spec("app.fail"), 7))
    assert result.function_error == "Unhandled"
    error = doc(result)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom 7"
    assert len(error["stackTrace"]) == 1  # the handler's frames only, not the worker's
    assert "in fail" in error["stackTrace"][0]
    assert "[ERROR] ValueError: boom 7" in result.log_tail


def test_an_unserializable_result_is_an_unhandled_marshal_error() -> None:
    async def body(pool: WorkerPool) -> tuple[InvocationResult, InvocationResult]:
        bad = await call(pool, spec("app.unserializable"))
        return bad, await call(pool, spec("app.unserializable"), rid="r2")

    bad, again = run(body)
    assert bad.function_error == "Unhandled"
    assert doc(bad)["errorType"] == "Runtime.MarshalError"
    assert doc(bad)["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert not again.cold_start  # the worker itself is fine


def test_a_timeout_kills_the_worker_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"

    async def body(pool: WorkerPool) -> tuple[InvocationResult, InvocationResult]:
        fs = spec("app.sleep", timeout_s=0.5)
        slow = await call(pool, fs, {"seconds": 30, "child_pid_file": str(pid_file)}, rid="r1")
        return slow, await call(pool, fs, {"seconds": 0}, rid="r2")

    start = time.monotonic()
    slow, after = run(body)
    assert time.monotonic() - start < 5
    assert slow.function_error == "Unhandled"
    error = doc(slow)
    assert error["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z r1 Task timed out after 0\.50 seconds",
        error["errorMessage"],
    )
    assert "sleeping" in slow.log_tail
    assert after.function_error is None and after.cold_start
    child = int(pid_file.read_text())
    assert _eventually_gone(child)


def _eventually_gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for init (slow to reap in containers)."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    ("handler", "reason"),
    [("app.exit3", "exit status 3"), ("app.segfault", "signal: segmentation fault")],
)
def test_a_crash_is_an_exit_error_and_the_next_invoke_gets_a_fresh_worker(
    handler: str, reason: str
) -> None:
    async def body(pool: WorkerPool) -> tuple[InvocationResult, InvocationResult]:
        crash = await call(pool, spec(handler, name="crashy"), rid="r1")
        return crash, await call(pool, spec("app.echo", name="crashy"), rid="r2")

    crash, after = run(body)
    assert crash.function_error == "Unhandled"
    assert doc(crash) == {
        "errorMessage": f"RequestId: r1 Error: Runtime exited with error: {reason}",
        "errorType": "Runtime.ExitError",
    }
    assert after.function_error is None and after.cold_start
    if handler == "app.segfault":
        assert "Fatal Python error: Segmentation fault" in crash.log_tail


def test_memory_limit() -> None:
    async def body(pool: WorkerPool) -> tuple[InvocationResult, ...]:
        fs = spec("app.allocate", memory_mb=128)
        small = await call(pool, fs, {"mb": 64}, rid="r1")
        big = await call(pool, fs, {"mb": 512}, rid="r2")
        return small, big, await call(pool, fs, {"mb": 64}, rid="r3")

    small, big, after = run(body)
    assert small.function_error is None and json.loads(small.payload) == 64 * 1024 * 1024
    assert big.function_error == "Unhandled"
    assert doc(big)["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError")
    assert after.function_error is None and after.cold_start  # the worker was replaced


def test_import_errors_are_reported_as_lambda_does(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def handler(event, context:\n    return 1\n")
    (tmp_path / "raises.py").write_text("raise RuntimeError('no config')\n")
    (tmp_path / "needs_dep.py").write_text("import not_installed_dependency\n")

    async def body(pool: WorkerPool) -> dict[str, InvocationResult]:
        cases = {
            "missing_module": spec("missing_module.handler"),
            "missing_function": spec("app.missing"),
            "not_callable": spec("app.not_callable"),
            "syntax": spec("broken.handler", code_dir=str(tmp_path)),
            "raises": spec("raises.handler", code_dir=str(tmp_path)),
            "dependency": spec("needs_dep.handler", code_dir=str(tmp_path)),
            "malformed": spec("nodot"),
        }
        return {case: await call(pool, fs) for case, fs in cases.items()}

    results = run(body)
    assert all(r.function_error == "Unhandled" and r.cold_start for r in results.values())
    docs = {case: doc(r) for case, r in results.items()}
    assert docs["missing_module"] == {
        "errorMessage": (
            "Unable to import module 'missing_module': No module named 'missing_module'"
        ),
        "errorType": "Runtime.ImportModuleError",
        "stackTrace": [],
    }
    assert docs["missing_function"]["errorType"] == "Runtime.HandlerNotFound"
    assert docs["missing_function"]["errorMessage"] == "Handler 'missing' missing on module 'app'"
    assert docs["not_callable"]["errorType"] == "Runtime.HandlerNotFound"
    assert docs["syntax"]["errorType"] == "Runtime.UserCodeSyntaxError"
    assert docs["syntax"]["errorMessage"].startswith("Syntax error in module 'broken': ")
    assert "broken.py" in docs["syntax"]["stackTrace"][0]
    assert docs["raises"]["errorType"] == "RuntimeError"
    assert docs["raises"]["errorMessage"] == "no config"
    assert any("raises.py" in frame for frame in docs["raises"]["stackTrace"])
    assert docs["dependency"]["errorMessage"] == (
        "Unable to import module 'needs_dep': No module named 'not_installed_dependency'"
    )
    assert docs["malformed"]["errorType"] == "Runtime.MalformedHandlerName"
    assert "Unable to import module 'missing_module'" in results["missing_module"].log_tail


# -- logs --------------------------------------------------------------------------------


def test_output_reaches_on_log_tagged_with_the_request_and_comes_back_as_the_tail() -> None:
    logs = Logs()

    async def body(pool: WorkerPool) -> tuple[InvocationResult, ...]:
        fs = spec("app.chatty")
        first = await call(pool, fs, {}, rid="r1")
        long = await call(pool, fs, {"lines": 200}, rid="r2")
        return first, long, await call(pool, fs, {}, rid="r3")

    first, long, third = run(body, on_log=logs)
    r1 = logs.of("r1")
    assert r1[0] == "app imported"  # init output belongs to the cold start's request
    assert "hello from print" in r1
    assert any(re.fullmatch(r"\[INFO\]\t\S+Z\tr1\thello from logging", line) for line in r1)
    assert "hello from stderr" in r1
    assert "hello from stdout.buffer" in r1
    assert "hello from fd 1 without newline" in r1  # C level, no newline at the end
    assert {fn for fn, _, _ in logs.lines} == {"app-chatty"}
    assert first.log_tail == "".join(f"{line}\n" for line in r1)
    # The tail is the last 4 KiB of this invocation only.
    assert len(logs.of("r2")) == 205
    assert len(long.log_tail.encode()) <= 4096
    assert long.log_tail.endswith("line 00199 " + "x" * 90 + "\nhello from fd 1 without newline\n")
    assert "line 00170" in long.log_tail
    assert "app imported" not in long.log_tail
    assert third.log_tail.startswith("hello from print\n")


# -- concurrency -------------------------------------------------------------------------


def test_reserved_concurrency_throttles_or_waits() -> None:
    async def body(pool: WorkerPool) -> tuple[Any, ...]:
        fs = spec("app.sleep", name="one-at-a-time")
        slow = asyncio.create_task(call(pool, fs, {"seconds": 0.3}, rid="r1", reserved=1))
        while pool.executions("one-at-a-time") == 0:
            await asyncio.sleep(0.005)
        counts = (pool.executions("one-at-a-time"), pool.executions())
        with pytest.raises(Throttled) as refused:
            await call(pool, fs, {"seconds": 0}, rid="r2", reserved=1)
        waited = await call(pool, fs, {"seconds": 0}, rid="r3", reserved=1, wait=True)
        first = await slow
        with pytest.raises(Throttled):
            await call(pool, fs, {"seconds": 0}, rid="r4", reserved=0, wait=True)
        return counts, refused.value, first, waited, pool.executions()

    counts, refused, first, waited, after = run(body)
    assert counts == (1, 1)
    assert refused.reason == Throttled.RESERVED_LIMIT
    assert first.function_error is None
    assert waited.function_error is None and not waited.cold_start  # the same warm worker
    assert after == 0


def test_max_workers_caps_the_pool_and_evicts_idle_workers() -> None:
    async def body(pool: WorkerPool) -> tuple[Any, ...]:
        a, b = spec("app.sleep", name="a"), spec("app.sleep", name="b")
        slow = asyncio.create_task(call(pool, a, {"seconds": 0.3}, rid="r1"))
        while pool.executions() == 0:
            await asyncio.sleep(0.005)
        with pytest.raises(Throttled) as refused:
            await call(pool, b, {"seconds": 0}, rid="r2")
        waited = await call(pool, b, {"seconds": 0}, rid="r3", wait=True)
        await slow
        again = await call(pool, a, {"seconds": 0}, rid="r4")
        return refused.value, waited, again

    refused, waited, again = run(body, max_workers=1)
    assert refused.reason == Throttled.RUNNER_LIMIT
    assert waited.function_error is None
    assert again.cold_start  # b's worker took a's place


# -- worker lifecycle --------------------------------------------------------------------


def test_idle_workers_are_reaped_and_discard_drops_warm_workers() -> None:
    async def body(pool: WorkerPool) -> list[bool]:
        fs = spec("app.echo")
        colds = [(await call(pool, fs)).cold_start, (await call(pool, fs)).cold_start]
        await asyncio.sleep(0.6)  # idle_seconds=0.2
        colds.append((await call(pool, fs)).cold_start)
        await pool.discard(fs.name)
        colds.append((await call(pool, fs)).cold_start)
        colds.append((await call(pool, replace(fs, code_id="sha-2"))).cold_start)
        colds.append((await call(pool, replace(fs, environment={"X": "1"}))).cold_start)
        return colds

    assert run(body, idle_seconds=0.2) == [True, False, True, True, True, True]


def test_a_cancelled_invoke_kills_its_worker_and_frees_its_slot() -> None:
    async def body(pool: WorkerPool) -> tuple[int, InvocationResult]:
        fs = spec("app.sleep")
        task = asyncio.create_task(call(pool, fs, {"seconds": 30}, rid="r1", reserved=1))
        while pool.executions() == 0:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pool.executions(), await call(pool, fs, {"seconds": 0}, rid="r2", reserved=1)

    running, after = run(body)
    assert running == 0
    assert after.function_error is None and after.cold_start


def test_concurrent_cold_starts_stay_within_max_workers() -> None:
    def workers() -> float:
        return sum(
            REGISTRY.get_sample_value("eventplane_function_workers", {"state": state}) or 0.0
            for state in ("idle", "busy")
        )

    async def body(pool: WorkerPool) -> tuple[float, float, list[bool]]:
        before = workers()
        await call(pool, spec("app.echo", name="a"))
        b, c = spec("app.sleep", name="b"), spec("app.sleep", name="c")
        results = await asyncio.gather(
            call(pool, b, {"seconds": 0.1}), call(pool, c, {"seconds": 0.1})
        )
        return before, workers(), [r.cold_start for r in results]

    before, after, colds = run(body, max_workers=2)
    assert after - before == 2  # a's idle worker made way for b or c
    assert colds == [True, True]


def test_a_worker_freed_before_a_cold_start_is_ready_serves_the_waiting_invocation(
    tmp_path: Path,
) -> None:
    """The function's one worker is busy, so an invocation starts another; the busy one
    is done first and serves it; the worker started joins the idle ones once ready."""

    async def body(pool: WorkerPool) -> tuple[Any, ...]:
        fs = spec("gated.pid", environment={"GATE": str(tmp_path)})
        first = await call(pool, fs)
        (tmp_path / "closed").touch()  # a cold start from now on waits at its import
        busy = asyncio.create_task(call(pool, fs, {"seconds": 0.2}, rid="r2"))
        while pool.executions() == 0:
            await asyncio.sleep(0.005)
        waiting = asyncio.create_task(call(pool, fs, rid="r3"))
        await busy
        await asyncio.wait_for(waiting, 30)  # served while the cold start is held
        (tmp_path / "closed").unlink()
        while len(pool._idle.get((fs.name, fs.version, fs.code_id), [])) < 2:
            await asyncio.sleep(0.01)
        return first, waiting.result()

    first, served = run(body)
    assert served.function_error is None and not served.cold_start
    assert doc(served) == doc(first)  # the same worker process


def test_close_ends_running_invocations() -> None:
    async def body(pool: WorkerPool) -> InvocationResult:
        task = asyncio.create_task(call(pool, spec("app.sleep"), {"seconds": 30}))
        while pool.executions() == 0:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        await pool.close()
        result = await task
        with pytest.raises(RuntimeError):
            await call(pool, spec("app.echo"))
        return result

    result = run(body)
    assert result.function_error == "Unhandled"
    assert (
        doc(result)["errorMessage"]
        == "RequestId: r1 Error: Runtime exited with error: signal: killed"
    )


def test_cold_start_and_worker_metrics() -> None:
    def sample(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    cold = {"function": "metered"}
    before = (
        sample("eventplane_function_cold_starts_total", cold),
        sample("eventplane_function_init_duration_seconds_count", cold),
    )

    async def body(pool: WorkerPool) -> tuple[float, float]:
        fs = spec("app.echo", name="metered")
        await call(pool, fs)
        await call(pool, fs)
        return (
            sample("eventplane_function_workers", {"state": "idle"}),
            sample("eventplane_function_concurrent_executions", cold),
        )

    idle_before = sample("eventplane_function_workers", {"state": "idle"})
    idle_during, concurrent = run(body)
    assert sample("eventplane_function_cold_starts_total", cold) == before[0] + 1
    assert sample("eventplane_function_init_duration_seconds_count", cold) == before[1] + 1
    assert idle_during == idle_before + 1
    assert concurrent == 0
    assert sample("eventplane_function_workers", {"state": "idle"}) == idle_before
    assert sample("eventplane_function_workers", {"state": "busy"}) == 0
