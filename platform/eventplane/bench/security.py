"""`eventplane bench security`: what TLS, a bearer token and a 50-statement policy add.

Two ``eventplane server`` processes on the configured Kafka, each in a cluster of its own,
alike but for security:

- ``plain``: no TLS, no authentication (loopback, as ``eventplane dev`` serves);
- ``secure``: TLS with a throwaway CA and server certificate made for the run, a bearer
  token, and an identity policy of ``POLICY_STATEMENTS`` statements whose first ones
  name the measured actions on other resources and whose last one allows them, so every
  call checks every statement (the policy cache remembers statements per action, so
  statements that do not name the action would cost nothing and prove nothing).

Figures (``value`` = secure, ``baseline_value`` = plain, ``added_pct`` = the difference
in % of plain):

- ``security_queue_cycle_p50`` / ``_p99``: one client, sequential SendMessage (1 KiB)
  -> ReceiveMessage (1, wait 1) -> DeleteMessage, ms per whole cycle;
- ``security_sync_invoke_p50`` / ``_p99``: RequestResponse invokes of a no-op Python
  handler, one at a time, warm;
- ``security_added_latency_p50_goal``: the larger p50 ``added_pct`` of the two beside the
  goal (``goal_pct``, 10) and whether it was met.

``PAIRS`` such pairs of servers run one after the other and their samples are pooled
(each p50 line also gives each pair's own added % at p50, ``added_pct_p50_per_pair``):
two processes on a shared 2-core machine differ by a few % either way whatever they
serve, and a single pair's difference moved the invoke's added p50 from -1 % to +12 %
between two runs of the same code. Within a pair, the two servers are sampled in turn
(one cycle or invoke on each, alternating which goes first), so that load from elsewhere
on a shared machine falls on both alike; connections are opened and warmed before
timing, so the figures are the per-call cost, not the TLS handshake's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import json
import secrets
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from eventplane.bench._stats import figure, percentile
from eventplane.bench.queues import body, server_env
from eventplane.client import AsyncClient
from eventplane.config import Settings
from eventplane.errors import EventplaneError
from eventplane.security import sha256_hex
from eventplane.testing.harness import EventplaneProcess, unique_cluster

Result = dict[str, Any]
GOAL_PCT = 10.0
POLICY_STATEMENTS = 50
# Server pairs measured one after the other, their samples pooled: a pair's two servers
# differ by more than security alone (where the scheduler put each process and its
# function worker on two cores), by a few % either way from one pair to the next.
PAIRS = 3
WARMUP = 20
PAYLOAD = b'{"bench": true}'
PREFIX = "secbench"
HANDLER = "def handler(event, context):\n    return None\n"
# What the benchmark calls; every filler statement names all of them.
ACTIONS = (
    "sqs:CreateQueue",
    "sqs:DeleteQueue",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:DeleteFunction",
    "lambda:InvokeFunction",
)

Sample = Callable[[], Awaitable[float]]


# --- certificates and tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    ca: bytes
    cert_file: Path
    key_file: Path
    tokens_file: Path
    token: str


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates() -> tuple[bytes, bytes, bytes]:
    """A CA and a server certificate for 127.0.0.1/localhost it signed: (ca, cert, key) PEM."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eventplane bench CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "eventplane")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return ca.public_bytes(pem), cert.public_bytes(pem), _pem_key(key)


def policy(statements: int = POLICY_STATEMENTS) -> dict[str, Any]:
    """``statements`` statements; only the last one allows the benchmark's resources.

    The others name every measured action (so the evaluator cannot skip them) on other
    teams' resources; every fifth is a Deny, which also keeps evaluation going after an
    Allow would have settled it.
    """
    filler = [
        {
            "Sid": f"Team{i}",
            "Effect": "Deny" if i % 5 == 4 else "Allow",
            "Action": list(ACTIONS),
            "Resource": [
                f"arn:aws:sqs:*:*:team-{i}-*",
                f"arn:aws:lambda:*:*:function:team-{i}-*",
            ],
        }
        for i in range(statements - 1)
    ]
    allow = {
        "Sid": "Bench",
        "Effect": "Allow",
        "Action": list(ACTIONS),
        "Resource": [f"arn:aws:sqs:*:*:{PREFIX}-*", f"arn:aws:lambda:*:*:function:{PREFIX}-*"],
    }
    return {"Version": "2012-10-17", "Statement": [*filler, allow]}


def write_credentials(folder: Path) -> Credentials:
    ca, cert, key = make_certificates()
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(cert)
    key_file.write_bytes(key)
    token = f"ep-bench-{secrets.token_hex(16)}"
    tokens_file = folder / "tokens.json"
    tokens_file.write_text(
        json.dumps(
            {
                "tokens": [
                    {"principal": "bench", "sha256": sha256_hex(token), "policies": [policy()]}
                ]
            }
        )
    )
    return Credentials(ca, cert_file, key_file, tokens_file, token)


class TlsServer(EventplaneProcess):
    """The harness's server, probed for SERVING over TLS (its probe dials plaintext)."""

    def __init__(self, bootstrap: str, *, ca: bytes, **kwargs: Any) -> None:
        super().__init__(bootstrap, **kwargs)
        self.ca = ca

    def wait_serving(self, timeout: float = 60.0) -> None:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        with grpc.secure_channel(self.endpoint, grpc.ssl_channel_credentials(self.ca)) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"eventplane server exited:\n{self.log_tail()}")
                with contextlib.suppress(grpc.RpcError):
                    status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server not SERVING in {timeout:g}s:\n{self.log_tail()}")
                time.sleep(0.1)


# --- one variant --------------------------------------------------------------------------------


class Variant:
    """One server, one warm client, the queue and function the samples use."""

    def __init__(self, client: AsyncClient, code: Path) -> None:
        self.client = client
        self.code = code
        self.name = f"{PREFIX}-{uuid.uuid4().hex[:8]}"
        self.queue_url = ""
        self.function = ""

    async def prepare(self) -> None:
        c = self.client
        self.queue_url = await c.queues.create_queue(self.name)
        await c.functions.create_function(self.name, "app.handler", zip_directory=self.code)
        self.function = self.name
        for _ in range(WARMUP):
            await self.cycle()
            await self.invoke()

    async def cycle(self) -> float:
        c, text = self.client, body()
        start = time.perf_counter()
        await c.queues.send_message(self.queue_url, text)
        got: list[Any] = []
        while not got:  # a wait of 1 s returns as soon as the message is there
            got = await c.queues.receive_message(self.queue_url, wait_time_seconds=1)
        await c.queues.delete_message(self.queue_url, got[0].receipt_handle)
        elapsed = time.perf_counter() - start
        if got[0].body != text:
            raise RuntimeError("the bench queue returned another message than it was sent")
        return elapsed

    async def invoke(self) -> float:
        start = time.perf_counter()
        result = await self.client.functions.invoke(self.function, PAYLOAD)
        elapsed = time.perf_counter() - start
        if result.function_error:
            raise RuntimeError(f"the bench handler failed: {result.payload!r}")
        return elapsed

    async def remove(self) -> None:
        c = self.client
        with contextlib.suppress(EventplaneError):
            if self.function:
                await c.functions.delete_function(self.function)
        with contextlib.suppress(EventplaneError):
            if self.queue_url:
                await c.queues.delete_queue(self.queue_url)


async def interleaved(plain: Sample, secure: Sample, count: int) -> tuple[list[float], list[float]]:
    """``count`` samples of each, one of each in turn, the first of each pair alternating.

    Load from elsewhere on a shared machine comes and goes within seconds; taking the
    two side by side lets it fall on both alike, and alternating which goes first keeps
    either from always following the other's work.
    """
    samples: tuple[list[float], list[float]] = ([], [])
    for n in range(count):
        order = ((0, plain), (1, secure)) if n % 2 == 0 else ((1, secure), (0, plain))
        for i, sample in order:
            samples[i].append(await sample())
    return samples


def added_pct(secure: float, plain: float) -> float | None:
    return round((secure / plain - 1) * 100, 1) if plain else None


def comparison(name: str, plain: list[float], secure: list[float]) -> Iterator[Result]:
    for p in (50, 99):
        ours, base = percentile(secure, p) * 1000, percentile(plain, p) * 1000
        yield figure(
            f"{name}_p{p}",
            "ms",
            ours,
            (f"plain_{name.removeprefix('security_')}_p{p}", base),
            added_pct=added_pct(ours, base),
            count=len(secure),
            plain_count=len(plain),
            tls=True,
            auth="bearer",
            policy_statements=POLICY_STATEMENTS,
        )


def goal(results: list[Result]) -> Result:
    at_p50 = {r["name"]: r["added_pct"] for r in results if r["name"].endswith("_p50")}
    worst = max((v for v in at_p50.values() if v is not None), default=float("nan"))
    return figure(
        "security_added_latency_p50_goal",
        "%",
        worst,
        goal_pct=GOAL_PCT,
        met=bool(worst < GOAL_PCT),
        added_pct_p50=at_p50,
    )


# --- the area -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    cycles: int
    invokes: int

    @classmethod
    def scaled(cls, scale: float) -> Counts:
        return cls(cycles=max(20, int(600 * scale)), invokes=max(20, int(1500 * scale)))

    def per_pair(self) -> Counts:
        return Counts(max(10, self.cycles // PAIRS), max(10, self.invokes // PAIRS))


async def _measure(
    plain: EventplaneProcess, secure: EventplaneProcess, creds: Credentials, code: Path, n: Counts
) -> Samples:
    async with (
        AsyncClient(plain.endpoint, timeout=60) as plain_client,
        AsyncClient(
            secure.endpoint, root_certificates=creds.ca, token=creds.token, timeout=60
        ) as secure_client,
    ):
        variants = (Variant(plain_client, code), Variant(secure_client, code))
        try:
            for v in variants:
                await v.prepare()
            p, s = variants
            cycles = await interleaved(p.cycle, s.cycle, n.cycles)
            invokes = await interleaved(p.invoke, s.invoke, n.invokes)
        finally:
            for v in variants:
                await v.remove()
    return Samples(*cycles, *invokes)


@dataclass
class Samples:
    """Each figure's samples from the plain and the secure server."""

    plain_cycles: list[float] = field(default_factory=list)
    secure_cycles: list[float] = field(default_factory=list)
    plain_invokes: list[float] = field(default_factory=list)
    secure_invokes: list[float] = field(default_factory=list)

    def add(self, other: Samples) -> None:
        self.plain_cycles += other.plain_cycles
        self.secure_cycles += other.secure_cycles
        self.plain_invokes += other.plain_invokes
        self.secure_invokes += other.secure_invokes

    def added_p50(self) -> dict[str, float | None]:
        """This pair's added % at p50, per figure."""
        return {
            "queue_cycle": added_pct(
                percentile(self.secure_cycles, 50), percentile(self.plain_cycles, 50)
            ),
            "sync_invoke": added_pct(
                percentile(self.secure_invokes, 50), percentile(self.plain_invokes, 50)
            ),
        }


def _pair(
    settings: Settings, env: dict[str, str], creds: Credentials, code: Path, n: Counts
) -> Samples:
    """One plain and one secure server, measured side by side, then stopped."""
    plain = EventplaneProcess(settings.bootstrap, env=env, cluster=unique_cluster("bench"))
    secure = TlsServer(
        settings.bootstrap,
        ca=creds.ca,
        env={
            **env,
            "EVENTPLANE_TLS_CERT_FILE": str(creds.cert_file),
            "EVENTPLANE_TLS_KEY_FILE": str(creds.key_file),
            "EVENTPLANE_AUTH_TOKENS_FILE": str(creds.tokens_file),
        },
        cluster=unique_cluster("bench"),
    )
    try:
        # Started side by side: a server's start-up is mostly waiting on the broker.
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(s.start, timeout=120) for s in (plain, secure)]:
                started.result()
        return asyncio.run(_measure(plain, secure, creds, code, n))
    finally:
        try:
            plain.stop()
        finally:
            secure.stop()
        for server in (plain, secure):
            with contextlib.suppress(OSError):
                server.log_path.unlink()


def run(settings: Settings, scale: float) -> Iterator[Result]:
    counts = Counts.scaled(scale)
    env = server_env(settings)
    # Functions' role tokens need a secret that is not the public development value; both
    # servers get the same, so they differ only in TLS and authentication.
    env.setdefault("EVENTPLANE_RECEIPT_SECRET", secrets.token_hex(16))
    pooled = Samples()
    per_pair: list[dict[str, float | None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        creds = write_credentials(folder)
        code = folder / "code"
        code.mkdir()
        (code / "app.py").write_text(HANDLER)
        for _ in range(PAIRS):
            pair = _pair(settings, env, creds, code, counts.per_pair())
            per_pair.append(pair.added_p50())
            pooled.add(pair)
    results = [
        *comparison("security_queue_cycle", pooled.plain_cycles, pooled.secure_cycles),
        *comparison("security_sync_invoke", pooled.plain_invokes, pooled.secure_invokes),
    ]
    for r in results:
        if r["name"].endswith("_p50"):
            figure_name = r["name"].removeprefix("security_").removesuffix("_p50")
            r["added_pct_p50_per_pair"] = [p[figure_name] for p in per_pair]
    yield from results
    yield goal(results)
