"""`eventplane bench gateway`: boto3 SQS through our gateway, beside moto's server and our SDK.

One run, printed as it goes:

- ``gateway_sqs_cycle`` / ``gateway_sqs_batched_cycle``: ``THREADS`` boto3 clients,
  each looping SendMessage -> ReceiveMessage (1) -> DeleteMessage (or the batch
  actions, 10 x 1 KiB), against eventplane's gateway, in messages per second; the
  baseline is the same workload against ``moto_server`` (in-memory, no
  durability) started by the benchmark, so ``ratio`` = eventplane / moto.
- ``gateway_send_message_latency_ms``: mean SendMessage latency from one boto3
  client through the gateway; its baseline is the same call through our gRPC SDK
  (``Client``) to the same server, so ``overhead_ms`` is what HTTP, SigV4 and the
  AWS protocol add per call.
- ``gateway_sns_publish_latency_ms``: the same for SNS Publish (query/XML protocol)
  to a topic with one queue subscribed, beside the gRPC SDK's publish.

The cycle figures carry ``server_cpu_us_per_msg`` (our server process's CPU per
message; moto's is not measured) beside ``raw_kafka_cpu_us_per_msg`` (bench/_cpu.py).

Needs the dev extra (boto3, moto[server]): ``pip install -e '.[dev]'``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from eventplane.bench._cpu import cpu_extras, raw_client_cpu_us, server_cpu
from eventplane.bench._stats import figure
from eventplane.config import Settings
from eventplane.testing.harness import EventplaneProcess, free_port, unique_cluster

THREADS = 4
BATCH = 10
BODY = "x" * 1024
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


def _cycle(endpoint: str, total: int, *, batched: bool) -> float:
    """Messages per second of THREADS clients sending, receiving and deleting ``total``."""
    setup = _boto3_client(endpoint)
    url = setup.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    per_thread = total // THREADS
    errors: list[BaseException] = []

    def work() -> None:
        c = _boto3_client(endpoint)
        done = 0
        try:
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
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    with contextlib.suppress(Exception):
        setup.delete_queue(QueueUrl=url)
    if errors:
        raise errors[0]
    return per_thread * THREADS / seconds


def _mean_ms(call: Callable[[], Any], count: int) -> float:
    for _ in range(min(20, count)):
        call()
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count * 1000


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
                yield figure(
                    name,
                    "msg/s",
                    ours,
                    ("moto_server_" + name.removeprefix("gateway_"), theirs),
                    count=count,
                    threads=THREADS,
                    **cpu_extras(cpu, count, raw_cpu_us),
                )
        boto = _boto3_client(server.gateway_url)
        url = boto.create_queue(QueueName=f"bench-lat-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        with server.client() as sdk:
            sdk_url = sdk.queues.get_queue_url(url.rsplit("/", 1)[-1])
            via_gateway = _mean_ms(lambda: boto.send_message(QueueUrl=url, MessageBody=BODY), calls)
            via_grpc = _mean_ms(lambda: sdk.queues.send_message(sdk_url, BODY), calls)
        boto.delete_queue(QueueUrl=url)
        yield figure(
            "gateway_send_message_latency_ms",
            "ms",
            via_gateway,
            ("grpc_sdk_send_message_latency_ms", via_grpc),
            count=calls,
            overhead_ms=round(via_gateway - via_grpc, 3),
        )
        yield _publish_latency(server, calls)
    finally:
        server.stop()


def _publish_latency(server: EventplaneProcess, calls: int) -> Result:
    """Mean SNS Publish latency through the gateway beside the gRPC SDK, to one topic."""
    sns = _boto3_client(server.gateway_url, "sns")
    sqs = _boto3_client(server.gateway_url)
    name = f"bench-pub-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
    try:
        with server.client() as sdk:
            via_gateway = _mean_ms(lambda: sns.publish(TopicArn=topic, Message=BODY), calls)
            via_grpc = _mean_ms(lambda: sdk.topics.publish(topic, BODY), calls)
    finally:
        sns.delete_topic(TopicArn=topic)
        sqs.delete_queue(QueueUrl=url)
    return figure(
        "gateway_sns_publish_latency_ms",
        "ms",
        via_gateway,
        ("grpc_sdk_publish_latency_ms", via_grpc),
        count=calls,
        overhead_ms=round(via_gateway - via_grpc, 3),
    )
