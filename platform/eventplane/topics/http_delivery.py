"""HTTP/S delivery: SNS delivery policies, one POST, and the retry loop around it.

SNS retries an HTTP/S delivery in four phases (its "healthy retry policy"): immediate
retries, retries at the minimum delay, a backoff phase from the minimum to the maximum
delay, and retries at the maximum delay. By default that is 3 retries 20 s apart, and each
attempt times out after 15 s. A delivery policy is set on a subscription
(``{"healthyRetryPolicy": ..., "throttlePolicy": ..., "requestPolicy": ...}``) or on a
topic (``{"http": {"defaultHealthyRetryPolicy": ..., "disableSubscriptionOverrides": ...}}``).

An attempt succeeds on a 2xx answer. A 4xx answer (except 408 and 429) is a client-side
error, which SNS does not retry; anything else (no answer, a timeout, 3xx, 408, 429, 5xx)
is retried while the policy lasts. SNS adds jitter to its retries; eventplane waits exactly
the policy's delays, so the worst case stays what the policy says.

The POST itself is the delivery layer's (eventplane.delivery.http), shared with the bus's
HTTP targets.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, NoReturn

from eventplane.delivery.http import DEFAULT_TIMEOUT_S as DEFAULT_TIMEOUT_S
from eventplane.delivery.http import is_retriable as is_retriable
from eventplane.delivery.http import post as post
from eventplane.topics.errors import InvalidParameter

DEFAULT_CONTENT_TYPE: Final = "text/plain; charset=UTF-8"
BACKOFF_FUNCTIONS: Final = ("linear", "arithmetic", "geometric", "exponential")
MAX_RETRIES: Final = 100
MAX_DELAY_TARGET: Final = 3_600
MAX_TOTAL_RETRY_S: Final = 3_600
_DEFAULT_DELAY: Final = 20
_UNBOUNDED: Final = 1 << 31
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;[^\r\n]*)?")
_SECTIONS: Final = {
    # subscription key -> topic key (under "http")
    "healthyRetryPolicy": "defaultHealthyRetryPolicy",
    "throttlePolicy": "defaultThrottlePolicy",
    "requestPolicy": "defaultRequestPolicy",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How one HTTP/S subscription is retried, with every delay already in seconds."""

    # Retries after the first attempt, all phases together (0-100).
    num_retries: int = 3
    # Delay of the pre-backoff phase and of the first backoff retry.
    min_delay_s: float = 20.0
    # Delay of the last backoff retry and of the post-backoff phase.
    max_delay_s: float = 20.0
    # Retries made at once, before any delay.
    num_no_delay_retries: int = 0
    # How the backoff phase grows from min to max: linear, arithmetic, geometric, exponential.
    backoff: str = "linear"
    # Retries at the minimum delay, before the backoff phase.
    num_min_delay_retries: int = 0
    # Retries at the maximum delay, after the backoff phase.
    num_max_delay_retries: int = 0
    # Seconds one attempt may take before it counts as failed (SNS: 15).
    timeout_s: float = DEFAULT_TIMEOUT_S
    # Content-Type of the POST (the policy's requestPolicy.headerContentType).
    content_type: str = DEFAULT_CONTENT_TYPE
    # throttlePolicy.maxReceivesPerSecond, or None for no throttling.
    max_receives_per_second: int | None = None

    @staticmethod
    def from_delivery_policy(policy_json: str | None, *, time_scale: float = 1.0) -> RetryPolicy:
        """The policy a delivery policy document describes; SNS's defaults for None or "".

        Args:
            policy_json: A subscription DeliveryPolicy (``healthyRetryPolicy`` ...) or a
                topic DeliveryPolicy (``{"http": {"defaultHealthyRetryPolicy": ...}}``).
            time_scale: Multiplies every delay (tests use e.g. 0.01; production 1.0). The
                attempt timeout is not scaled.

        Raises:
            InvalidParameter: The document is not a valid HTTP/S delivery policy.
        """
        sections, _ = _sections(policy_json)
        return _build(sections, time_scale)

    @staticmethod
    def for_subscription(
        subscription_policy: str | None,
        topic_policy: str | None,
        *,
        time_scale: float = 1.0,
    ) -> RetryPolicy:
        """The effective policy of an HTTP/S subscription.

        The topic's policy is the default; each section the subscription sets replaces the
        topic's, unless the topic sets ``disableSubscriptionOverrides``.
        """
        sections, disable_overrides = _sections(topic_policy)
        if not disable_overrides:
            own, _ = _sections(subscription_policy)
            sections = {**sections, **own}
        return _build(sections, time_scale)

    def delays(self) -> list[float]:
        """The wait before each retry, in order; ``len(delays()) == num_retries``."""
        backoff_count = (
            self.num_retries
            - self.num_no_delay_retries
            - self.num_min_delay_retries
            - self.num_max_delay_retries
        )
        return [
            *([0.0] * self.num_no_delay_retries),
            *([self.min_delay_s] * self.num_min_delay_retries),
            *_backoff(self.backoff, self.min_delay_s, self.max_delay_s, backoff_count),
            *([self.max_delay_s] * self.num_max_delay_retries),
        ]


def validate_delivery_policy(policy_json: str, *, topic: bool) -> None:
    """Reject a DeliveryPolicy attribute SNS would reject.

    Args:
        policy_json: The attribute value.
        topic: True for a topic's policy (``{"http": {...}}``), False for a subscription's.

    Raises:
        InvalidParameter: Naming DeliveryPolicy and the reason.
    """
    document = _load(policy_json)
    if topic and "http" not in document and any(key in document for key in _SECTIONS):
        _fail('A topic delivery policy puts its settings under "http".')
    if not topic and "http" in document:
        _fail('A subscription delivery policy has no "http" key; use healthyRetryPolicy.')
    _build(_sections(policy_json)[0], 1.0)


def effective_topic_policy(policy_json: str | None) -> str:
    """A topic's EffectiveDeliveryPolicy: its DeliveryPolicy with SNS's defaults filled in."""
    policy = RetryPolicy.from_delivery_policy(policy_json)
    disable = _sections(policy_json)[1]
    http: dict[str, Any] = {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": int(policy.min_delay_s),
            "maxDelayTarget": int(policy.max_delay_s),
            "numRetries": policy.num_retries,
            "numMaxDelayRetries": policy.num_max_delay_retries,
            "numNoDelayRetries": policy.num_no_delay_retries,
            "numMinDelayRetries": policy.num_min_delay_retries,
            "backoffFunction": policy.backoff,
        },
        "disableSubscriptionOverrides": disable,
    }
    if policy.max_receives_per_second is not None:
        http["defaultThrottlePolicy"] = {"maxReceivesPerSecond": policy.max_receives_per_second}
    http["defaultRequestPolicy"] = {"headerContentType": policy.content_type}
    return json.dumps({"http": http}, separators=(",", ":"))


def _fail(reason: str) -> NoReturn:
    raise InvalidParameter(f"Invalid parameter: DeliveryPolicy Reason: {reason}")


def _load(policy_json: str) -> dict[str, Any]:
    try:
        document = json.loads(policy_json)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        _fail("Must be a JSON object.")
    return document


def _object(value: Any, name: str) -> dict[str, Any]:
    # Effective policies SNS returns carry nulls (e.g. "sicklyRetryPolicy": null).
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(f"{name} must be a JSON object.")
    return value


def _sections(policy_json: str | None) -> tuple[dict[str, dict[str, Any]], bool]:
    """The sections a document sets, under their subscription names, and whether the
    topic disables subscription overrides."""
    if not policy_json:
        return {}, False
    document = _load(policy_json)
    disable = False
    if "http" in document:
        http = _object(document["http"], "http")
        flag = http.get("disableSubscriptionOverrides", False)
        if not isinstance(flag, bool):
            _fail("disableSubscriptionOverrides must be true or false.")
        disable = bool(flag)
        found = {sub: http.get(top) for sub, top in _SECTIONS.items()}
    else:
        found = {key: document.get(key) for key in _SECTIONS}
    sections = {key: _object(value, key) for key, value in found.items() if value is not None}
    return sections, disable


def _int(section: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        bounds = f"at least {low}" if high >= _UNBOUNDED else f"from {low} to {high}"
        _fail(f"{key} must be an integer {bounds}, got {value!r}.")
    return int(value)


def _build(sections: Mapping[str, Mapping[str, Any]], time_scale: float) -> RetryPolicy:
    retry = sections.get("healthyRetryPolicy", {})
    # When only one delay bound is given, the other defaults to 20 s but never crosses it.
    max_given, min_given = "maxDelayTarget" in retry, "minDelayTarget" in retry
    max_delay = _int(retry, "maxDelayTarget", _DEFAULT_DELAY, 1, MAX_DELAY_TARGET)
    min_default = min(_DEFAULT_DELAY, max_delay) if max_given else _DEFAULT_DELAY
    min_delay = _int(retry, "minDelayTarget", min_default, 1, MAX_DELAY_TARGET)
    if min_given and not max_given:
        max_delay = max(max_delay, min_delay)
    if min_delay > max_delay:
        _fail(f"minDelayTarget ({min_delay}) must not exceed maxDelayTarget ({max_delay}).")
    num_retries = _int(retry, "numRetries", 3, 0, MAX_RETRIES)
    no_delay = _int(retry, "numNoDelayRetries", 0, 0, _UNBOUNDED)
    at_min = _int(retry, "numMinDelayRetries", 0, 0, _UNBOUNDED)
    at_max = _int(retry, "numMaxDelayRetries", 0, 0, _UNBOUNDED)
    if no_delay + at_min + at_max > num_retries:
        _fail(
            "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries "
            f"({no_delay + at_min + at_max}) must not exceed numRetries ({num_retries})."
        )
    backoff = retry.get("backoffFunction", "linear")
    if not isinstance(backoff, str) or backoff.lower() not in BACKOFF_FUNCTIONS:
        _fail(f"backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}, got {backoff!r}.")
    throttle = sections.get("throttlePolicy", {})
    rate = (
        _int(throttle, "maxReceivesPerSecond", 1, 1, _UNBOUNDED)
        if "maxReceivesPerSecond" in throttle
        else None
    )
    content_type = sections.get("requestPolicy", {}).get("headerContentType", DEFAULT_CONTENT_TYPE)
    if not isinstance(content_type, str) or _CONTENT_TYPE.fullmatch(content_type) is None:
        _fail(f"headerContentType must be a media type such as text/plain, got {content_type!r}.")
    policy = RetryPolicy(
        num_retries=num_retries,
        min_delay_s=float(min_delay),
        max_delay_s=float(max_delay),
        num_no_delay_retries=no_delay,
        backoff=backoff.lower(),
        num_min_delay_retries=at_min,
        num_max_delay_retries=at_max,
        content_type=content_type,
        max_receives_per_second=rate,
    )
    total = sum(policy.delays())
    if total > MAX_TOTAL_RETRY_S:
        _fail(
            f"The retries would take {total:g} seconds; the total retry time of an HTTP/S "
            f"delivery policy is at most {MAX_TOTAL_RETRY_S} seconds."
        )
    if time_scale == 1.0:
        return policy
    return replace(policy, min_delay_s=min_delay * time_scale, max_delay_s=max_delay * time_scale)


def _backoff(function: str, low: float, high: float, count: int) -> list[float]:
    """Delays of the backoff phase: the first is ``low``, the last ``high``.

    SNS documents the end points and the function names but not the curves; these follow
    the names: equal steps (linear), steps growing by a constant amount (arithmetic), a
    constant ratio (geometric), doubling from ``low`` until capped at ``high`` (exponential).
    """
    if count <= 0:
        return []
    if count == 1:
        return [float(low)]
    out: list[float] = []
    for i in range(count):
        share = i / (count - 1)
        if function == "arithmetic":
            delay = low + (high - low) * share * share
        elif function == "geometric" and low > 0:
            delay = low * (high / low) ** share
        elif function == "exponential":
            delay = high if i == count - 1 else min(high, low * 2**i)
        else:
            delay = low + (high - low) * share
        out.append(float(delay))
    return out


async def deliver(
    url: str, body: str, headers: Mapping[str, str], policy: RetryPolicy
) -> tuple[bool, int]:
    """POST until an attempt succeeds, the endpoint refuses for good, or the policy ends.

    Returns:
        (delivered, attempts): delivered is True on a 2xx answer; attempts counts the
        first try too, so it is at most ``policy.num_retries + 1``.
    """
    delays = policy.delays()
    attempts = 0
    while True:
        status = await post(url, body, headers, timeout=policy.timeout_s)
        attempts += 1
        if 200 <= status < 300:
            return True, attempts
        if not is_retriable(status) or attempts > len(delays):
            return False, attempts
        await asyncio.sleep(delays[attempts - 1])
