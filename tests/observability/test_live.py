"""The dashboards and rules against a real Prometheus scraping a real eventplane server
under a little load: every expression evaluates without error, the core panels show data,
Prometheus evaluates every rule healthily, and the template variables list the resources
the load created. The load covers every area: queues, topics, buses, functions, workflows
and tables (workloads.py), stream mappings included.
"""

from __future__ import annotations

import contextlib
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from eventplane.client import Client
from eventplane.errors import EventplaneError
from eventplane.testing import EventplaneProcess, eventually, unique_cluster

from . import workloads
from .support import (
    CORE_PANELS,
    HANDLERS,
    RULES,
    SERIES_EXEMPT,
    Prometheus,
    PrometheusTools,
    Target,
    load_dashboards,
    render,
    rules,
    targets,
    variables,
)

pytestmark = pytest.mark.integration

JOB = {"job": "eventplane"}  # the scrape job of the test's Prometheus
_LABEL_VALUES = re.compile(r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$")


@dataclass(frozen=True)
class Load:
    """What the load created, by the label Prometheus sees it under."""

    queue: str
    queue_url: str
    topic: str  # ARN
    bus: str
    function: str
    failing_function: str
    stateful: workloads.Stateful

    @property
    def topic_name(self) -> str:
        return self.topic.rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def server(eventplane_kafka: str) -> Iterator[EventplaneProcess]:
    server = EventplaneProcess(eventplane_kafka, cluster=unique_cluster()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def prometheus(
    prometheus_tools: PrometheusTools,
    server: EventplaneProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    prom = Prometheus(
        prometheus_tools.prometheus,
        tmp_path_factory.mktemp("prometheus"),
        targets=[f"127.0.0.1:{server.metrics_port}"],
        rule_files=[RULES],
    ).start()
    try:
        yield prom
    finally:
        prom.stop()


@pytest.fixture(scope="module")
def load(server: EventplaneProcess, prometheus: Prometheus) -> Iterator[Load]:
    """Queue, topic, bus and function traffic in two rounds; everything is deleted
    afterwards. Counters appear at their first increment, so Prometheus's first sample
    already holds round one: round two, after that sample, gives rates above zero and
    finite duration quantiles."""
    name = f"obs-{uuid.uuid4().hex[:8]}"
    undo: list[Callable[[], Any]] = []
    with server.client(timeout=30) as c:
        try:
            load = _create(c, name, undo)
            load = replace(load, stateful=workloads.create(c, name, load.function, undo))
            _traffic(c, load)
            eventually(lambda: _scraped(prometheus, load), timeout=20, interval=0.2)
            _traffic(c, load)
            yield load
        finally:
            for step in reversed(undo):
                with contextlib.suppress(EventplaneError):
                    step()


def _queue(c: Client, name: str, undo: list[Callable[[], Any]]) -> tuple[str, str]:
    url = c.queues.create_queue(name)
    undo.append(lambda: c.queues.delete_queue(url))
    return url, c.queues.get_queue_attributes(url, ["QueueArn"])["QueueArn"]


def _create(c: Client, name: str, undo: list[Callable[[], Any]]) -> Load:
    """A queue; a topic with a queue subscription; a bus with a rule targeting a queue; a
    function that answers and one that fails."""
    url, _ = _queue(c, name, undo)

    topic = c.topics.create_topic(name)
    undo.append(lambda: c.topics.delete_topic(topic))
    _, subscriber = _queue(c, f"{name}-from-topic", undo)
    c.topics.subscribe(topic, "sqs", subscriber)

    c.events.create_event_bus(name)
    undo.append(lambda: c.events.delete_event_bus(name))
    _, target = _queue(c, f"{name}-from-bus", undo)
    c.events.put_rule(name, event_pattern={"source": ["observability"]}, event_bus_name=name)
    undo.append(lambda: c.events.delete_rule(name, event_bus_name=name, force=True))
    c.events.put_targets(name, [{"Id": "queue", "Arn": target}], event_bus_name=name)

    ok, failing = f"{name}-ok", f"{name}-fail"
    for fn, handler in ((ok, "observed.ok"), (failing, "observed.fail")):
        c.functions.create_function(fn, handler, zip_directory=HANDLERS)
        undo.append(lambda fn=fn: c.functions.delete_function(fn))
    return Load(
        queue=name,
        queue_url=url,
        topic=topic,
        bus=name,
        function=ok,
        failing_function=failing,
        stateful=workloads.Stateful("", "", "", "", ""),  # created next, after the function
    )


def _traffic(c: Client, load: Load) -> None:
    for i in range(5):
        c.queues.send_message(load.queue_url, f"message {i}")
    received = eventually(
        lambda: c.queues.receive_message(
            load.queue_url, max_number_of_messages=3, wait_time_seconds=1
        )
    )
    for m in received:
        c.queues.delete_message(load.queue_url, m.receipt_handle)

    for i in range(3):
        c.topics.publish(load.topic, f"news {i}")

    entry = {
        "Source": "observability",
        "DetailType": "Tick",
        "Detail": {},
        "EventBusName": load.bus,
    }
    assert c.events.put_events([entry] * 3).failed_entry_count == 0

    for i in range(3):
        assert c.functions.invoke(load.function, {"n": i}).function_error is None
    assert c.functions.invoke(load.failing_function, {"n": 0}).function_error == "Unhandled"
    accepted = c.functions.invoke(load.function, {"n": 9}, invocation_type="Event")
    assert accepted.status_code == 202
    workloads.traffic(c, load.stateful)


def _scraped(prometheus: Prometheus, load: Load) -> bool:
    """Prometheus holds a sample of every counter the core panels read."""
    selectors = [
        f'eventplane_queue_messages_sent_total{{queue="{load.queue}"}}',
        f'eventplane_queue_messages_received_total{{queue="{load.queue}"}}',
        f'eventplane_topic_messages_published_total{{topic="{load.topic_name}"}}',
        f'eventplane_bus_events_put_total{{bus="{load.bus}"}}',
        f'eventplane_function_invocations_total{{function="{load.failing_function}"}}',
        f'eventplane_function_duration_seconds_count{{function="{load.function}"}}',
        *workloads.selectors(load.stateful),
    ]
    return all(prometheus.query(s)["data"]["result"] for s in selectors)


def _dashboard_targets() -> list[Target]:
    return list(targets(load_dashboards()))


def _is_core(t: Target) -> bool:
    return (t.dashboard["uid"], t.panel["title"]) in CORE_PANELS


def test_core_panels_show_data(prometheus: Prometheus, load: Load) -> None:
    """Each target of a core panel returns series, and some value of the panel is above
    zero (a rate that rose, a finite duration quantile, a server up)."""
    core = [t for t in _dashboard_targets() if _is_core(t)]
    assert {(t.dashboard["uid"], t.panel["title"]) for t in core} == set(CORE_PANELS)

    def missing() -> list[str]:
        empty: list[str] = []
        flat: dict[tuple[str, str], bool] = {}  # panel -> no value above 0 so far
        for t in core:
            answer = prometheus.query(render(t.expr, t.dashboard, JOB))
            assert answer["status"] == "success", (t.where, answer)
            values = [float(s["value"][1]) for s in answer["data"]["result"]]
            if not values:
                empty.append(t.where)
            panel = (t.dashboard["uid"], t.panel["title"])
            flat[panel] = flat.get(panel, True) and not any(0 < v < math.inf for v in values)
        return empty + [
            f"{uid} / {title!r}: nothing above 0" for (uid, title), f in flat.items() if f
        ]

    def all_have_data() -> bool:
        problems = missing()
        assert not problems, f"core panels without data: {problems}\n{prometheus.log()}"
        return True

    eventually(all_have_data, timeout=30, interval=0.5)


def test_workflow_and_table_panels_return_series(prometheus: Prometheus, load: Load) -> None:
    """Every query of the workflows and tables dashboards returns a series under the load
    (not only the core panels: their alerts' inputs, like failed executions, too)."""
    wanted = [
        t
        for t in _dashboard_targets()
        if t.dashboard["uid"] in ("eventplane-workflows", "eventplane-tables")
        and (t.dashboard["uid"], t.panel["title"]) not in SERIES_EXEMPT
    ]

    def empty() -> list[str]:
        return [
            t.where
            for t in wanted
            if not prometheus.query(render(t.expr, t.dashboard, JOB))["data"]["result"]
        ]

    def all_have_series() -> bool:
        missing = empty()
        assert not missing, f"panels without a series: {missing}"
        return True

    eventually(all_have_series, timeout=30, interval=0.5)


def test_an_invalid_expression_is_reported(prometheus: Prometheus) -> None:
    """What the two tests below rely on to tell a broken expression."""
    answer = prometheus.query("sum(rate(eventplane_queue_messages_sent_total[1m])")
    assert (answer["status"], answer["errorType"]) == ("error", "bad_data")


def test_every_dashboard_expression_evaluates(prometheus: Prometheus, load: Load) -> None:
    failed = []
    for t in _dashboard_targets():
        answer = prometheus.query(render(t.expr, t.dashboard, JOB))
        if answer["status"] != "success":
            failed.append(f"{t.where}: {answer.get('errorType')}: {answer.get('error')}")
    assert not failed, "\n".join(failed)


def test_every_rule_expression_evaluates(prometheus: Prometheus, load: Load) -> None:
    failed = []
    for rule in rules():
        answer = prometheus.query(rule["expr"])
        if answer["status"] != "success":
            name = rule.get("alert") or rule.get("record")
            failed.append(f"{name}: {answer.get('errorType')}: {answer.get('error')}")
    assert not failed, "\n".join(failed)


def test_prometheus_evaluates_every_rule(prometheus: Prometheus, load: Load) -> None:
    expected = {r.get("alert") or r.get("record") for r in rules()}

    def evaluated() -> dict[str, Any]:
        loaded = {
            r["name"]: r
            for group in prometheus.api("rules")["data"]["groups"]
            for r in group["rules"]
        }
        assert set(loaded) == expected
        assert all(r["health"] != "unknown" for r in loaded.values())
        return loaded

    loaded = eventually(evaluated, timeout=15, interval=0.5)
    unhealthy = {n: r.get("lastError") for n, r in loaded.items() if r["health"] != "ok"}
    assert not unhealthy


def test_template_variables_list_the_resources(prometheus: Prometheus, load: Load) -> None:
    expected = {
        "job": "eventplane",
        "queue": load.queue,
        "function": load.function,
        "topic": load.topic_name,
        "bus": load.bus,
        "state_machine": load.stateful.state_machine,
        "table": load.stateful.table,
    }
    for dashboard in load_dashboards():
        for name, variable in variables(dashboard).items():
            if variable["type"] != "query":
                continue
            m = _LABEL_VALUES.match(variable["query"])
            assert m, f"{dashboard['uid']} ${name}: {variable['query']}"
            selector = render(m["selector"], dashboard, JOB)
            eventually(
                lambda selector=selector, label=m["label"], wanted=expected[name]: (
                    wanted in _label_values(prometheus, selector, label)
                ),
                timeout=15,
                interval=0.5,
                message=f"{dashboard['uid']} ${name} does not list {expected[name]}",
            )


def _label_values(prometheus: Prometheus, selector: str, label: str) -> set[str]:
    """What Grafana's label_values(selector, label) lists."""
    answer = prometheus.api("series", **{"match[]": selector})
    assert answer["status"] == "success", answer
    return {s[label] for s in answer["data"] if label in s}
