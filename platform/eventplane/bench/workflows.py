"""`eventplane bench workflows`: Express and Standard executions.

- ``workflows_express_pass_transitions_s``: a chain of 100 Pass states run by the
  Express runner in this process (one core, no I/O): the interpreter's speed.
- ``workflows_standard_step_p50/p99``: StartExecution of a one-Pass Standard machine,
  client-side: the start record produced, the owner's step committed in its
  transaction and read back by the view; beside the raw Kafka produce-to-consume
  latency of the same run.
- ``workflows_standard_transitions_s``: 4 clients starting executions of a 10-Pass
  Standard machine; states entered per second until the last one ended, with the
  server's CPU per transition beside the raw Kafka client's per record (bench/_cpu.py).
- ``workflows_task_chain_5_p50``: a Standard chain of 5 Task states calling a no-op
  function (ExecutionStarted to ExecutionSucceeded in its history), beside the sum of 5
  sync invokes of the same function measured in the same run; then where a Task's time
  went (``workflows_task_chain_5_stage_<stage>_p50/p99``, the server's ``wf_*`` stages of
  observability/stages.py over the chains' run).
- ``workflows_express_task_chain_5_p50``: the same chain as an Express machine through
  StartSyncExecution (client-side, one call), beside the same 5 sync invokes.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventplane.bench import _stages
from eventplane.bench._cpu import CpuSpan, cpu_extras, raw_client_cpu_us, server_cpu
from eventplane.bench._delivery import latency_figures, raw_latency
from eventplane.bench._stats import figure, percentile
from eventplane.bench.queues import server_env
from eventplane.client import AsyncClient
from eventplane.config import Settings
from eventplane.testing.harness import EventplaneProcess, unique_cluster
from eventplane.workflows.clock import Clock
from eventplane.workflows.express import run_express
from eventplane.workflows.machine import Machine
from eventplane.workflows.perform import Outcome

Result = dict[str, Any]
CONCURRENCY = 4
FN_ARN = "arn:aws:lambda:local:000000000000:function:"


def _chain(n: int) -> dict[str, Any]:
    states = {
        f"S{i}": {"Type": "Pass", **({"Next": f"S{i + 1}"} if i < n - 1 else {"End": True})}
        for i in range(n)
    }
    return {"StartAt": "S0", "States": states}


def express_rate(runs: int) -> float:
    machine = Machine(_chain(100))

    async def perform(resource: str, payload: Any, waits: bool) -> Outcome:
        raise RuntimeError("no tasks in a Pass chain")

    async def go() -> float:
        # One warm-up run: paths compile and caches fill once per definition.
        await run_express(machine, "arn:x:warm", "warm", "arn:sm", '{"a":1}', perform, Clock())
        start = time.perf_counter()
        for i in range(runs):
            await run_express(machine, f"arn:x:{i}", str(i), "arn:sm", '{"a":1}', perform, Clock())
        return runs * 100 / (time.perf_counter() - start)

    return asyncio.run(go())


async def _standard(
    target: str, count: int, pid: int | None
) -> tuple[list[float], float, int, CpuSpan]:
    async with AsyncClient(target, timeout=60) as c:
        one = await c.workflows.create_state_machine(f"bench-{uuid.uuid4().hex[:8]}", _chain(1))
        ten = await c.workflows.create_state_machine(f"bench-{uuid.uuid4().hex[:8]}", _chain(10))
        for _ in range(20):
            await c.workflows.start_execution(one.state_machine_arn, {})
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            await c.workflows.start_execution(one.state_machine_arn, {})
            samples.append(time.perf_counter() - start)
        arns: list[str] = []
        remaining = count
        with server_cpu(pid) as span:
            t0 = time.perf_counter()

            async def starter() -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    e = await c.workflows.start_execution(ten.state_machine_arn, {})
                    arns.append(e.execution_arn)

            await asyncio.gather(*(starter() for _ in range(CONCURRENCY)))
            transitions = 0
            for arn in arns:
                while (e := await c.workflows.describe_execution(arn)).status == "RUNNING":
                    await asyncio.sleep(0.01)
                transitions += e.state_transitions
            rate = transitions / (time.perf_counter() - t0)
        return samples, rate, transitions, span


async def _chain_vs_invokes(
    target: str, code: Path, runs: int
) -> tuple[list[float], list[float], list[float]]:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    async with AsyncClient(target, timeout=60) as c:
        await c.functions.create_function(name, "app.handler", zip_directory=code)
        try:
            task: dict[str, Any] = {"Type": "Task", "Resource": FN_ARN + name}
            states = {f"T{i}": {**task, "Next": f"T{i + 1}"} for i in range(4)}
            states["T4"] = {**task, "End": True}
            definition = {"StartAt": "T0", "States": states}
            sm = await c.workflows.create_state_machine(f"bench-{uuid.uuid4().hex[:8]}", definition)
            express = await c.workflows.create_state_machine(
                f"bench-{uuid.uuid4().hex[:8]}", definition, type="EXPRESS"
            )
            invokes, chains, express_chains = [], [], []
            for _ in range(runs):
                start = time.perf_counter()
                for _ in range(5):
                    await c.functions.invoke(name, {})
                invokes.append(time.perf_counter() - start)
                e = await c.workflows.start_execution(sm.state_machine_arn, {})
                while (await c.workflows.describe_execution(e.execution_arn)).status == "RUNNING":
                    await asyncio.sleep(0.005)
                events = await c.workflows.get_execution_history(e.execution_arn)
                chains.append((events[-1]["timestamp"] - events[0]["timestamp"]) / 1000)
                start = time.perf_counter()
                done = await c.workflows.start_sync_execution(express.state_machine_arn, {})
                express_chains.append(time.perf_counter() - start)
                if done.status != "SUCCEEDED":
                    raise RuntimeError(f"the Express chain ended {done.status}: {done.error}")
            # the first run starts the worker
            return chains[1:], express_chains[1:], invokes[1:]
        finally:
            await c.functions.delete_function(name)


def run(settings: Settings, scale: float) -> Iterator[Result]:
    runs = max(20, int(200 * scale))
    yield figure(
        "workflows_express_pass_transitions_s", "transitions/s", express_rate(runs), states=100
    )
    count = max(50, int(500 * scale))
    raw = raw_latency(settings, count)
    raw_cpu_us = raw_client_cpu_us(settings, max(1000, int(5000 * scale)))
    server = EventplaneProcess(
        settings.bootstrap, env=server_env(settings), cluster=unique_cluster("bench")
    )
    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp)
        (code / "app.py").write_text("def handler(event, context):\n    return event\n")
        try:
            server.start(timeout=120)
            pid = server.proc.pid if server.proc is not None else None
            steps, rate, transitions, cpu = asyncio.run(_standard(server.endpoint, count, pid))
            yield from latency_figures("workflows_standard_step", steps, raw)
            yield figure(
                "workflows_standard_transitions_s",
                "transitions/s",
                rate,
                concurrency=CONCURRENCY,
                count=count,
                **cpu_extras(cpu, transitions, raw_cpu_us),
            )
            before = _stages.scrape(server.metrics_url)
            chains, express_chains, invokes = asyncio.run(
                _chain_vs_invokes(server.endpoint, code, max(10, int(50 * scale)))
            )
            after = _stages.scrape(server.metrics_url)
            invokes_p50 = ("functions_5_sync_invokes_p50", percentile(invokes, 50) * 1000)
            for name, samples in (
                ("workflows_task_chain_5_p50", chains),
                ("workflows_express_task_chain_5_p50", express_chains),
            ):
                yield figure(
                    name, "ms", percentile(samples, 50) * 1000, invokes_p50, count=len(samples)
                )
            wf_before = {k: v for k, v in before.items() if k.startswith("wf_")}
            wf_after = {k: v for k, v in after.items() if k.startswith("wf_")}
            yield from _stages.stage_figures("workflows_task_chain_5", wf_before, wf_after)
        finally:
            server.stop()
    with contextlib.suppress(OSError):
        server.log_path.unlink()
