"""`eventplane bench gateway`: boto3 SQS through our gateway, beside moto's server and our SDK.

One run, printed as it goes:

- ``gateway_sqs_cycle`` / ``gateway_sqs_batched_cycle``: ``THREADS`` boto3 clients,
  each looping SendMessage -> ReceiveMessage (1) -> DeleteMessage (or the batch
  actions, 10 x 1 KiB), against eventplane's gateway, in messages per second; the
  baseline is the same workload against ``moto_server`` (in-memory, no
  durability) started by the benchmark, so ``ratio`` = eventplane / moto.
  ``grpc_sdk_msg_per_s`` is the same workload through our gRPC SDK to the same
  server (``grpc_sdk_ratio`` = that / moto): the core's pace without HTTP and the
  AWS protocol, to tell the gateway's share of a shortfall from the core's.
- ``gateway_send_message_latency_ms``: mean SendMessage latency from one boto3
  client through the gateway; its baseline is the same call through our gRPC SDK
  (``Client``) to the same server, so ``overhead_ms`` is what boto3, HTTP and the
  AWS protocol add per call. boto3's own part of it is not the gateway's:
  ``boto3_client_ms`` is boto3's cost per call with no server (a canned answer
  given before anything is sent), and ``wire_latency_ms`` is the same request as
  boto3 built and signed it, sent again and again over one keep-alive connection
  with the standard library's HTTP client, so ``wire_overhead_ms`` (wire minus
  the gRPC SDK) is what the gateway itself adds per call over the gRPC path.
- ``gateway_sns_publish_latency_ms``: the same for SNS Publish (query/XML protocol)
  to a topic with one queue subscribed, beside the gRPC SDK's publish.

The cycle figures carry ``server_cpu_us_per_msg`` (our server process's CPU per
message; moto's is not measured) beside ``raw_kafka_cpu_us_per_msg`` (bench/_cpu.py).

Needs the dev extra (boto3, moto[server]): ``pip install -e '.[dev]'``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from eventplane.bench._cpu import cpu_extras, raw_client_cpu_us, server_cpu
from eventplane.bench._stats import figure, percentile
from eventplane.config import Settings
from eventplane.testing.harness import EventplaneProcess, free_port, unique_cluster

THREADS = 4
BATCH = 10
BODY = "x" * 1024
# Calls of one path before the latency figures turn to the next (_interleaved_ms).
ROUND = 10
Result = dict[str, Any]


def _boto3_client(endpoint: str, service: str = "sqs") -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - a runtime-only install
        raise SystemExit("eventplane bench gateway needs boto3: pip install -e '.[dev]'") from None
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 0}, max_pool_connections=THREADS * 2),
    )


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone server in a child process; yields its endpoint."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("moto's server did not start (is moto[server] installed?)")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _threads_rate(work: Callable[[int], None], total: int) -> float:
    """Messages per second of THREADS threads each running ``work(total // THREADS)``."""
    per_thread = total // THREADS
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work(per_thread)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return per_thread * THREADS / seconds


def _cycle(endpoint: str, total: int, *, batched: bool) -> float:
    """Messages per second of THREADS clients sending, receiving and deleting ``total``."""
    setup = _boto3_client(endpoint)
    url = setup.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]

    def work(per_thread: int) -> None:
        c = _boto3_client(endpoint)
        done = 0
        while done < per_thread:
            if batched:
                entries = [{"Id": str(i), "MessageBody": BODY} for i in range(BATCH)]
                c.send_message_batch(QueueUrl=url, Entries=entries)
            else:
                c.send_message(QueueUrl=url, MessageBody=BODY)
            got = c.receive_message(
                QueueUrl=url, MaxNumberOfMessages=BATCH if batched else 1, WaitTimeSeconds=1
            ).get("Messages", [])
            if not got:
                continue
            if batched:
                c.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(got)
                    ],
                )
            else:
                for m in got:
                    c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            done += len(got)

    try:
        return _threads_rate(work, total)
    finally:
        with contextlib.suppress(Exception):
            setup.delete_queue(QueueUrl=url)


def _sdk_cycle(server: EventplaneProcess, total: int, *, batched: bool) -> float:
    """``_cycle``'s workload through our gRPC SDK to the same server: the core's pace
    without HTTP and the AWS protocol."""
    with server.client() as setup:
        url = setup.queues.create_queue(f"bench-sdk-{uuid.uuid4().hex[:8]}")

    def work(per_thread: int) -> None:
        with server.client() as c:
            done = 0
            while done < per_thread:
                if batched:
                    entries = [{"id": str(i), "message_body": BODY} for i in range(BATCH)]
                    c.queues.send_message_batch(url, entries)
                else:
                    c.queues.send_message(url, BODY)
                got = c.queues.receive_message(
                    url, max_number_of_messages=BATCH if batched else 1, wait_time_seconds=1
                )
                if batched and got:
                    c.queues.delete_message_batch(
                        url,
                        [
                            {"id": str(i), "receipt_handle": m.receipt_handle}
                            for i, m in enumerate(got)
                        ],
                    )
                elif got:
                    for m in got:
                        c.queues.delete_message(url, m.receipt_handle)
                done += len(got)

    try:
        return _threads_rate(work, total)
    finally:
        with contextlib.suppress(Exception), server.client() as cleanup:
            cleanup.queues.delete_queue(url)


def _wire_call(client: Any, call: Callable[[], Any]) -> Callable[[], None]:
    """One send of the HTTP request ``call`` makes, as boto3 built and signed it, over a
    keep-alive connection: the gateway's part of a call without boto3's per-call work."""
    sent: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request)

    client.meta.events.register("before-send", capture)
    try:
        call()
    finally:
        client.meta.events.unregister("before-send", capture)
    request = sent[-1]
    url = urlsplit(request.url)
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80)

    def send() -> None:
        conn.request(request.method, target, body, headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"the gateway answered {response.status}: {answer[:200]!r}")

    return send


def _client_ms(service: str, call: Callable[[Any], Any], answer: bytes, count: int) -> float:
    """boto3's own cost per call (build, sign, parse), answered before anything is sent."""
    from botocore.awsrequest import AWSResponse

    class _Raw:
        def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
            yield answer

        def read(self, *_: Any, **__: Any) -> bytes:
            return answer

    content_type = "text/xml" if answer.startswith(b"<") else "application/x-amz-json-1.0"

    def canned(request: Any, **_: Any) -> AWSResponse:
        headers = {"content-type": content_type, "x-amzn-requestid": "bench"}
        return AWSResponse(request.url, 200, headers, _Raw())

    client = _boto3_client("http://127.0.0.1:9", service)  # never reached
    client.meta.events.register("before-send", canned)
    return _mean_ms(lambda: call(client), count)


_SEND_ANSWER = (
    b'{"MD5OfMessageBody":"ac1dbb2f8d7a5e2ab7d5bc3c8b1fb1a1",'
    b'"MessageId":"0b8c3a1e-2a4f-4b8e-9a51-6f0d1c2e3b4a"}'
)
_PUBLISH_ANSWER = (
    b'<?xml version="1.0"?><PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    b"<PublishResult><MessageId>0b8c3a1e-2a4f-4b8e-9a51-6f0d1c2e3b4a</MessageId>"
    b"</PublishResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>"
    b"</PublishResponse>"
)


def _mean_ms(call: Callable[[], Any], count: int) -> float:
    for _ in range(min(20, count)):
        call()
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count * 1000


def _interleaved_ms(paths: dict[str, Callable[[], Any]], count: int) -> dict[str, list[float]]:
    """``count`` timed calls of each path, in turns of ``ROUND``, so that every path sees
    the same moments of a shared, busy machine (a block of one path after another lets
    a neighbour's burst land on one side only)."""
    for call in paths.values():
        for _ in range(min(20, count)):
            call()
    times: dict[str, list[float]] = {name: [] for name in paths}
    while len(next(iter(times.values()))) < count:
        for name, call in paths.items():
            for _ in range(ROUND):
                started = time.perf_counter()
                call()
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def _latency_figure(
    name: str,
    baseline_name: str,
    paths: dict[str, Callable[[], Any]],
    count: int,
    client_ms: float,
) -> Result:
    """boto3 through the gateway beside the gRPC SDK (``overhead_ms``, means, as first
    printed), and the gateway's own part: the wire figures, without boto3's per-call work."""
    times = _interleaved_ms(paths, count)
    mean = {k: sum(v) / len(v) for k, v in times.items()}
    p50 = {k: percentile(v, 50) for k, v in times.items()}
    return figure(
        name,
        "ms",
        mean["boto3"],
        (baseline_name, mean["grpc"]),
        count=count,
        overhead_ms=round(mean["boto3"] - mean["grpc"], 3),
        boto3_client_ms=round(client_ms, 3),
        wire_latency_ms=round(mean["wire"], 3),
        wire_overhead_ms=round(mean["wire"] - mean["grpc"], 3),
        p50_ms=round(p50["boto3"], 3),
        grpc_p50_ms=round(p50["grpc"], 3),
        wire_p50_ms=round(p50["wire"], 3),
        wire_overhead_p50_ms=round(p50["wire"] - p50["grpc"], 3),
    )


def run(settings: Settings, scale: float) -> Iterator[Result]:
    unbatched = max(100, int(800 * scale))
    batched = max(400, int(4000 * scale))
    calls = max(100, int(500 * scale))
    env = {"EVENTPLANE_GATEWAY_OPEN": "true"}
    for name in ("EVENTPLANE_CONFIG", "EVENTPLANE_RECEIPT_SECRET"):
        if name in os.environ:
            env[name] = os.environ[name]
    raw_cpu_us = raw_client_cpu_us(settings, max(1000, int(5000 * scale)))
    server = EventplaneProcess(
        settings.bootstrap, roles="api,queues,fanout", env=env, cluster=unique_cluster("bench")
    ).start()
    pid = server.proc.pid if server.proc is not None else None
    try:
        with moto_server() as moto:
            for name, count, is_batched in (
                ("gateway_sqs_cycle", unbatched, False),
                ("gateway_sqs_batched_cycle", batched, True),
            ):
                with server_cpu(pid) as cpu:
                    ours = _cycle(server.gateway_url, count, batched=is_batched)
                theirs = _cycle(moto, count, batched=is_batched)
                sdk = _sdk_cycle(server, count, batched=is_batched)
                yield figure(
                    name,
                    "msg/s",
                    ours,
                    ("moto_server_" + name.removeprefix("gateway_"), theirs),
                    count=count,
                    threads=THREADS,
                    grpc_sdk_msg_per_s=round(sdk, 3),
                    grpc_sdk_ratio=round(sdk / theirs, 4) if theirs else None,
                    **cpu_extras(cpu, count, raw_cpu_us),
                )
        boto = _boto3_client(server.gateway_url)
        url = boto.create_queue(QueueName=f"bench-lat-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        with server.client() as sdk:
            sdk_url = sdk.queues.get_queue_url(url.rsplit("/", 1)[-1])
            send_figure = _send_latency(boto, sdk, url, sdk_url, calls)
        boto.delete_queue(QueueUrl=url)
        yield send_figure
        yield _publish_latency(server, calls)
    finally:
        server.stop()


def _send_latency(boto: Any, sdk: Any, url: str, sdk_url: str, calls: int) -> Result:
    """SendMessage latency through the gateway beside the gRPC SDK, to one queue."""

    def send(client: Any = boto) -> Any:
        return client.send_message(QueueUrl=url, MessageBody=BODY)

    paths = {
        "boto3": send,
        "grpc": lambda: sdk.queues.send_message(sdk_url, BODY),
        "wire": _wire_call(boto, send),
    }
    return _latency_figure(
        "gateway_send_message_latency_ms",
        "grpc_sdk_send_message_latency_ms",
        paths,
        calls,
        _client_ms("sqs", send, _SEND_ANSWER, calls),
    )


def _publish_latency(server: EventplaneProcess, calls: int) -> Result:
    """SNS Publish latency through the gateway beside the gRPC SDK, to one topic."""
    sns = _boto3_client(server.gateway_url, "sns")
    sqs = _boto3_client(server.gateway_url)
    name = f"bench-pub-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])

    def publish(client: Any = sns) -> Any:
        return client.publish(TopicArn=topic, Message=BODY)

    client_ms = _client_ms("sns", publish, _PUBLISH_ANSWER, calls)
    try:
        with server.client() as sdk:
            paths = {
                "boto3": publish,
                "grpc": lambda: sdk.topics.publish(topic, BODY),
                "wire": _wire_call(sns, publish),
            }
            return _latency_figure(
                "gateway_sns_publish_latency_ms",
                "grpc_sdk_publish_latency_ms",
                paths,
                calls,
                client_ms,
            )
    finally:
        sns.delete_topic(TopicArn=topic)
        sqs.delete_queue(QueueUrl=url)
