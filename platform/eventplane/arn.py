"""Identity and ARNs: the one place that knows partition, region, account and ARN shapes.

Every capability names its resources with AWS's ARNs, and users paste ARNs copied from
AWS into configuration (redrive policies, targets, destinations, subscriptions). So
parsing accepts any partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...), region and
account, while formatting writes this installation's region (``configure``, from
EVENTPLANE_REGION) and the account of the resource's owner: queues, topics, buses,
rules, tables and functions belong to the account of the principal that created them
(their formatters take ``account``), everything else, and what the installation's own
principals create, to the installation's account (EVENTPLANE_ACCOUNT_ID). Queue, topic,
function, event bus, table, state machine and activity names are per account
(``eventplane.names``: such a target's endpoint is its internal name, in the ARN's
account); the other kinds' names are unique per installation, so the cores find such a
resource by its name whatever account an ARN
passed in gives, and authorization puts the owner's account back
(``security.authorize``). Parsing is
strict about the resource part of each kind: a queue ARN with a path, or a function ARN
with two qualifiers, is not an ARN of that kind.

Callers turn a ``None`` or an ``InvalidArn`` into their own AWS error, because each
API words the message differently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlparse

from eventplane import names

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "PARTITION",
    "QUEUE_REFERENCE",
    "QUEUE_URL_SCHEME",
    "Arn",
    "Identity",
    "InvalidArn",
    "Kind",
    "Resource",
    "Target",
    "TargetKind",
    "account_of",
    "activity_arn",
    "archive_arn",
    "bus_arn",
    "configure",
    "execution_arn",
    "format_arn",
    "function_arn",
    "identity",
    "mapping_arn",
    "parse",
    "parse_as",
    "queue_arn",
    "queue_name",
    "queue_ref_arn",
    "queue_reference",
    "queue_url",
    "replay_arn",
    "resource",
    "rule_arn",
    "schema_arn",
    "state_machine_arn",
    "stream_arn",
    "subscription_arn",
    "table_arn",
    "target",
    "topic_arn",
    "valid_queue_name",
    "with_account",
]

PARTITION: Final = "aws"
DEFAULT_REGION: Final = "local"
DEFAULT_ACCOUNT: Final = "000000000000"
DEFAULT_BUS: Final = "default"


@dataclass(frozen=True)
class Identity:
    """The region and account ARNs are formatted with."""

    region: str
    account: str


# One per process: the server sets it from its settings before any component starts.
_installation = Identity(DEFAULT_REGION, DEFAULT_ACCOUNT)


def configure(region: str, account: str) -> None:
    """Set this installation's identity (the server does, from its settings)."""
    global _installation
    _installation = Identity(region, account)
    names.configure(account)


def identity() -> Identity:
    """The identity ARNs are formatted with."""
    return _installation


# arn:partition:service:region:account:resource (the resource may hold ':' and '/').
_ARN = re.compile(
    r"arn:(?P<partition>aws[a-zA-Z-]*):(?P<service>[a-z0-9.-]+):"
    r"(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)",
    re.DOTALL,
)


class InvalidArn(ValueError):
    """Not an ARN, or not an ARN of the kind asked for."""


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return format_arn(self.service, self.resource, self.region, self.account, self.partition)


class Kind(StrEnum):
    QUEUE = "queue"
    TOPIC = "topic"
    SUBSCRIPTION = "subscription"
    BUS = "event-bus"
    RULE = "rule"
    ARCHIVE = "archive"
    REPLAY = "replay"
    SCHEMA = "schema"
    FUNCTION = "function"
    MAPPING = "event-source-mapping"
    STATE_MACHINE = "stateMachine"
    EXECUTION = "execution"
    ACTIVITY = "activity"
    TABLE = "table"
    STREAM = "stream"


@dataclass(frozen=True)
class Resource:
    """What an ARN names: its kind, its name, and the parts some kinds have.

    ``parent`` is the bus of a rule, the topic of a subscription, the state machine of
    an execution, the table of a stream; ``qualifier`` a function's version or alias,
    a subscription's id, a stream's label.
    """

    kind: Kind
    name: str
    arn: Arn
    parent: str | None = None
    qualifier: str | None = None


def parse(text: str) -> Arn:
    match = _ARN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArn(f"{text!r} is not an ARN (arn:<partition>:<service>:...)")
    return Arn(**match.groupdict())


_SIMPLE = r"[^:/]+"
# (service, kind, resource pattern); order matters where patterns overlap.
_KINDS: Final[tuple[tuple[str, Kind, re.Pattern[str]], ...]] = tuple(
    (service, kind, re.compile(pattern, re.DOTALL))
    for service, kind, pattern in (
        ("sqs", Kind.QUEUE, rf"(?P<name>{_SIMPLE})"),
        ("sns", Kind.TOPIC, rf"(?P<name>{_SIMPLE})"),
        ("sns", Kind.SUBSCRIPTION, rf"(?P<parent>{_SIMPLE}):(?P<qualifier>{_SIMPLE})"),
        ("events", Kind.BUS, r"event-bus/(?P<name>.+)"),
        # Bus names may hold "/": the rule's name is what follows the last one; rules of
        # the default bus leave the bus out.
        ("events", Kind.RULE, r"rule/(?:(?P<parent>.+)/)?(?P<name>[^/]+)"),
        ("events", Kind.ARCHIVE, r"archive/(?P<name>.+)"),
        ("events", Kind.REPLAY, r"replay/(?P<name>.+)"),
        ("schemas", Kind.SCHEMA, r"schema/(?P<parent>[^/]+)/(?P<name>.+)"),
        ("lambda", Kind.FUNCTION, rf"function:(?P<name>{_SIMPLE})(?::(?P<qualifier>{_SIMPLE}))?"),
        ("lambda", Kind.MAPPING, rf"event-source-mapping:(?P<name>{_SIMPLE})"),
        ("states", Kind.STATE_MACHINE, rf"stateMachine:(?P<name>{_SIMPLE})"),
        (
            "states",
            Kind.EXECUTION,
            rf"(?:execution|express):(?P<parent>{_SIMPLE}):(?P<name>{_SIMPLE})(?::{_SIMPLE})?",
        ),
        ("states", Kind.ACTIVITY, rf"activity:(?P<name>{_SIMPLE})"),
        (
            "dynamodb",
            Kind.STREAM,
            rf"table/(?P<parent>{_SIMPLE})/stream/(?P<qualifier>[^/]+)",  # label: a time
        ),
        ("dynamodb", Kind.TABLE, rf"table/(?P<name>{_SIMPLE})"),
    )
)


def resource(text: str) -> Resource:
    """The resource ``text`` names, for every kind above; ``InvalidArn`` otherwise."""
    if isinstance(text, str):
        return _resource(text)
    parse(text)  # raises InvalidArn
    raise AssertionError("unreachable")


# Authorization reads the ARN of every call (a function's permissions are looked up by
# it); the parse is a pure function of the text and a Resource is frozen, so the ARNs a
# process sees over and over are parsed once.
@functools.lru_cache(maxsize=4096)
def _resource(text: str) -> Resource:
    arn = parse(text)
    for service, kind, pattern in _KINDS:
        if service != arn.service:
            continue
        match = pattern.fullmatch(arn.resource)
        if match is None:
            continue
        groups = match.groupdict()
        parent, qualifier = groups.get("parent"), groups.get("qualifier")
        if kind is Kind.RULE and parent is None:
            parent = DEFAULT_BUS
        name = groups.get("name")
        if kind is Kind.SUBSCRIPTION:
            name = parent
        if kind is Kind.STREAM:
            name = parent
        return Resource(kind, name or "", arn, parent, qualifier)
    raise InvalidArn(f"{text!r} names no {arn.service} resource eventplane knows")


def account_of(text: str) -> str:
    """The account field of an ARN (``""`` when ``text`` has none): no full parse."""
    parts = text.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[0] == "arn" else ""


def with_account(text: str, account: str) -> str:
    """``text`` (an ARN) naming ``account``; anything else unchanged."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[4] == account:
        return text
    parts[4] = account
    return ":".join(parts)


def parse_as(text: str, *kinds: Kind) -> Resource | None:
    """The resource ``text`` names when it is an ARN of one of ``kinds``, else None."""
    try:
        found = resource(text)
    except InvalidArn:
        return None
    return found if found.kind in kinds else None


# --- where a payload can go -------------------------------------------------------------------


class TargetKind(StrEnum):
    """The one classification of delivery targets (rule targets, destinations, DLQs).

    The values are the bus's target kinds as metrics label them.
    """

    QUEUE = "sqs"
    TOPIC = "sns"
    BUS = "bus"
    FUNCTION = "function"
    STATE_MACHINE = "states"
    HTTP = "http"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    # a queue's, topic's, bus's or state machine's internal name (``eventplane.names``);
    # a function's internal name and ":qualifier" if any; the URL of an HTTP target
    endpoint: str
    arn: str


_TARGET_KINDS: Final = {
    Kind.QUEUE: TargetKind.QUEUE,
    Kind.TOPIC: TargetKind.TOPIC,
    Kind.BUS: TargetKind.BUS,
    Kind.FUNCTION: TargetKind.FUNCTION,
    Kind.STATE_MACHINE: TargetKind.STATE_MACHINE,
}


def target(text: str) -> Target | None:
    """Where ``text`` (an ARN, or an http(s) URL) delivers to; None when nowhere known."""
    if text.startswith(("http://", "https://")):
        return Target(TargetKind.HTTP, text, text)
    found = parse_as(text, *_TARGET_KINDS)
    if found is None:
        return None
    endpoint = found.name
    if found.arn.service in names.PER_ACCOUNT and _ACCOUNT_ID.fullmatch(found.arn.account):
        # Named per account: the endpoint is the resource's internal name (an ARN of no
        # valid account names the installation's).
        endpoint = names.qualify(found.name, found.arn.account)
    if found.qualifier is not None:
        endpoint = f"{endpoint}:{found.qualifier}"
    return Target(_TARGET_KINDS[found.kind], endpoint, text)


# --- formatting: this installation's identity -------------------------------------------------


def format_arn(
    service: str,
    resource: str,
    region: str | None = None,
    account: str | None = None,
    partition: str = PARTITION,
) -> str:
    """An ARN in ``region`` and ``account``, by default this installation's (``identity``)."""
    current = identity()
    region = current.region if region is None else region
    account = current.account if account is None else account
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


# ``account``: the owner's (a resource's registry spec says whose it is); None is this
# installation's.


def queue_arn(name: str, account: str | None = None) -> str:
    return format_arn("sqs", name, account=account)


def topic_arn(name: str, account: str | None = None) -> str:
    return format_arn("sns", name, account=account)


def subscription_arn(topic: str, subscription_id: str, account: str | None = None) -> str:
    return format_arn("sns", f"{topic}:{subscription_id}", account=account)


def bus_arn(name: str, account: str | None = None) -> str:
    return format_arn("events", f"event-bus/{name}", account=account)


def rule_arn(bus: str, rule: str, account: str | None = None) -> str:
    # EventBridge leaves the bus out of the ARNs of rules on the default bus.
    resource = f"rule/{rule}" if bus == DEFAULT_BUS else f"rule/{bus}/{rule}"
    return format_arn("events", resource, account=account)


def archive_arn(name: str, account: str | None = None) -> str:
    return format_arn("events", f"archive/{name}", account=account)


def replay_arn(name: str, account: str | None = None) -> str:
    return format_arn("events", f"replay/{name}", account=account)


def schema_arn(name: str, registry: str = "eventplane", account: str | None = None) -> str:
    return format_arn("schemas", f"schema/{registry}/{name}", account=account)


def function_arn(name: str, qualifier: str | None = None, account: str | None = None) -> str:
    """The ARN of function ``name``: a plain name in ``account`` (None: the installation's),
    or an internal name (``eventplane.names``: another account's function), which gives
    its owner's account and shows its plain name."""
    if names.looks_qualified(name):
        account, name = names.unqualify(name)
    resource = f"function:{name}" + (f":{qualifier}" if qualifier else "")
    return format_arn("lambda", resource, account=account)


def mapping_arn(mapping_uuid: str, account: str | None = None) -> str:
    return format_arn("lambda", f"event-source-mapping:{mapping_uuid}", account=account)


def default_role(account: str | None = None) -> str:
    """The role a state machine acts as when it names none: ``eventplane`` of its account
    (None or ``""``: the installation's)."""
    return format_arn("iam", "role/eventplane", region="", account=account or None)


def state_machine_arn(name: str, account: str | None = None) -> str:
    return format_arn("states", f"stateMachine:{name}", account=account)


def execution_arn(
    state_machine: str, execution: str, *, express: bool = False, account: str | None = None
) -> str:
    kind = "express" if express else "execution"
    return format_arn("states", f"{kind}:{state_machine}:{execution}", account=account)


def activity_arn(name: str, account: str | None = None) -> str:
    return format_arn("states", f"activity:{name}", account=account)


def table_arn(name: str, account: str | None = None) -> str:
    return format_arn("dynamodb", f"table/{name}", account=account)


def stream_arn(table: str, label: str, account: str | None = None) -> str:
    return format_arn("dynamodb", f"table/{table}/stream/{label}", account=account)


def table_arn_of(ref: str, owner: str = "") -> str:
    """The ARN of the table a TableName names (for authorization): an ARN as is, else
    (a bare name) in ``owner``'s account ("": the caller's, for the authorizer to fill
    in; table names are per account)."""
    return ref if ref.startswith("arn:") else table_arn(ref, owner)


# --- queue references ---------------------------------------------------------------------
# A queue is named by its name, its URL or its ARN wherever SQS takes a QueueUrl, and the
# same references appear in SNS subscriptions (an sqs Endpoint) and redrive policies.

QUEUE_URL_SCHEME: Final = "eventplane://queues/"
QUEUE_NAME_MAX: Final = 80
QUEUE_FIFO_SUFFIX: Final = ".fifo"
QUEUE_REFERENCE: Final = (
    f"a queue name, a queue URL ({QUEUE_URL_SCHEME}<name>) or a queue ARN "
    "(arn:aws:sqs:<region>:<account>:<name>)"
)
_QUEUE_NAME_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def queue_url(name: str, account: str | None = None) -> str:
    """The eventplane URL of ``account``'s queue ``name``: ``eventplane://queues/<name>``
    for the installation's queues (as before accounts), ``.../<account>/<name>`` for
    another account's (names are per account, so the URL must say whose)."""
    if not account or account == _installation.account:
        return f"{QUEUE_URL_SCHEME}{name}"
    return f"{QUEUE_URL_SCHEME}{account}/{name}"


def valid_queue_name(name: str) -> bool:
    """1-80 characters of [A-Za-z0-9_-], plus an optional ``.fifo`` (which counts)."""
    base = name.removesuffix(QUEUE_FIFO_SUFFIX)
    return len(name) <= QUEUE_NAME_MAX and _QUEUE_NAME_CHARS.fullmatch(base) is not None


def queue_name(ref: str) -> str | None:
    """The queue name in ``ref`` (a bare name, an eventplane or AWS queue URL, or a queue
    ARN), or None when it names no valid queue. Any region and account are accepted, so
    configuration copied from AWS keeps working; whether the queue exists is the caller's
    question."""
    found = queue_reference(ref)
    return found[1] if found is not None else None


_ACCOUNT_ID = re.compile(r"[0-9]{12}")


def queue_ref_arn(ref: str, owner: str = "") -> str:
    """The ARN of the queue ``ref`` names (for authorization): an ARN as is; a URL's in
    the account it gives, else (a bare name) in ``owner``'s ("": the caller's, for the
    authorizer to fill in). Invalid references keep their last path segment."""
    if ref.startswith("arn:"):
        return ref
    found = queue_reference(ref)
    if found is not None:
        return queue_arn(found[1], owner if found[0] is None else found[0])
    if ref.startswith(("http://", "https://")):
        segments = [s for s in urlparse(ref).path.split("/") if s]
        return queue_arn(segments[-1], owner) if segments else "*"
    return queue_arn(ref.removeprefix(QUEUE_URL_SCHEME), owner)


def queue_reference(ref: str) -> tuple[str | None, str] | None:
    """(account, name) of the queue ``ref`` names, or None when it names no valid queue.

    The account is the one an ARN or URL gives (``eventplane://queues/<name>``: the
    installation's), None for a bare name, which the caller's account resolves
    (``eventplane.names.candidates``).
    """
    account: str | None = None
    name = ref
    if ref.startswith("arn:"):
        found = parse_as(ref, Kind.QUEUE)
        name, account = (found.name, found.arn.account or None) if found else ("", None)
    elif ref.startswith(QUEUE_URL_SCHEME):
        owner, _, name = ref.removeprefix(QUEUE_URL_SCHEME).rpartition("/")
        if owner and not _ACCOUNT_ID.fullmatch(owner):
            return None
        account = owner or _installation.account
    elif ref.startswith(("http://", "https://")):
        # AWS-style https://sqs.<region>.amazonaws.com/<account>/<name>
        segments = [s for s in urlparse(ref).path.split("/") if s]
        name = segments[-1] if len(segments) >= 2 else ""
        if len(segments) >= 2 and _ACCOUNT_ID.fullmatch(segments[-2]):
            account = segments[-2]
    return (account, name) if valid_queue_name(name) else None
