"""`eventplane bench events` (matcher part): event-pattern matching throughput, one thread.

- ``events_matcher_1_rule`` / ``_100_rules`` / ``_1000_rules``: events per second
  through :class:`RuleSet.matching` with that many rules, on one thread: per second of
  that thread's CPU time (``wall_events_s`` has the wall-clock rate, lower when other
  processes share the core). The rules look like a bus's: each names one or two
  sources and usually a detail-type, and tests the detail with prefixes, numeric
  ranges, anything-but and exact values. The events come from a fixed pool (seeded)
  where a few percent match one of the 1,000 rules.
- ``events_matcher_naive_1000_rules``: the same events against the same 1,000 rules by
  calling every CompiledPattern in turn, the cost the index avoids; the 1,000-rule
  figure is compared with it (``ratio`` = speed-up).

Figures carry ``matches_per_event`` so a change in selectivity shows. The naive and
indexed matchers must agree on every event of the naive run, or the bench fails.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventplane.bench._stats import figure
from eventplane.bus.patterns import compile_pattern
from eventplane.bus.ruleset import RuleSet
from eventplane.config import Settings
from eventplane.matching import CompiledPattern

Result = dict[str, Any]
Event = dict[str, Any]
Rules = list[tuple[str, CompiledPattern]]

SIZES = (1, 100, 1000)
POOL = 5_000
SEED = 20240601
SOURCES = 80  # 50 of them have rules
TYPES = 24  # per source; 20 of them have rules
STATUSES = ("ok", "pending", "failed", "cancelled", "retrying")
NAME_PREFIXES = ("order-", "invoice-", "refund-", "payment-", "shipment-", "return-")
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2")


@dataclass(frozen=True)
class Counts:
    """Events matched per figure; ``scale`` multiplies the defaults."""

    indexed: int
    naive: int

    @classmethod
    def scaled(cls, scale: float) -> Counts:
        return cls(indexed=max(500, int(250_000 * scale)), naive=max(25, int(500 * scale)))


def _source(n: int) -> str:
    return f"com.example.service{n:02d}"


def _detail_type(n: int) -> str:
    return f"Entity{n:02d} Changed"


def rule_pattern(rng: random.Random, n: int) -> dict[str, Any]:
    """The n-th rule: rules 0..999 cover distinct (source, detail-type) pairs."""
    source, kind = n % 50, (n // 50) % 20
    detail: dict[str, Any] = {}
    shape = rng.randrange(10)
    if shape < 4:
        low = rng.randrange(0, 950, 10)
        detail["amount"] = [{"numeric": [">=", low, "<", low + rng.choice((20, 50))]}]
    if shape in (2, 3, 4, 5, 8, 9):
        detail["name"] = [{"prefix": rng.choice(NAME_PREFIXES)}]
    if shape in (4, 5):
        detail["status"] = [{"anything-but": rng.sample(STATUSES, 4)}]
    if shape >= 6:
        detail["region"] = [rng.choice(REGIONS)]
    if shape in (6, 7):
        detail["amount"] = [{"numeric": [">", rng.randrange(900, 990)]}]
    pattern: dict[str, Any] = {"source": [_source(source)], "detail": detail}
    roll = rng.random()
    if roll < 0.8:
        pattern["detail-type"] = [_detail_type(kind)]
    elif roll < 0.9:
        pattern["detail-type"] = [_detail_type(kind), _detail_type(kind + 20)]
    else:  # a second source, and any detail-type
        pattern["source"].append(_source((source + 7) % 50))
    return pattern


def rules(count: int, seed: int = SEED) -> Rules:
    rng = random.Random(seed)
    return [(f"rule-{n}", compile_pattern(rule_pattern(rng, n))) for n in range(count)]


def events(count: int = POOL, seed: int = SEED) -> list[Event]:
    rng = random.Random(seed + 1)
    pool: list[Event] = []
    for n in range(count):
        pool.append(
            {
                "version": "0",
                "id": f"00000000-0000-4000-8000-{n:012d}",
                "detail-type": _detail_type(rng.randrange(TYPES)),
                "source": _source(rng.randrange(SOURCES)),
                "account": "123456789012",
                "time": "2024-06-01T12:00:00Z",
                "region": rng.choice(REGIONS),
                "resources": [f"arn:aws:example:eu-west-1:123456789012:thing/{n}"],
                "detail": {
                    "name": f"{rng.choice(NAME_PREFIXES)}{rng.randrange(10**6)}",
                    "amount": round(rng.uniform(0, 1000), 2),
                    "status": rng.choice(STATUSES),
                    "region": rng.choice(REGIONS),
                    "items": [{"sku": f"sku-{rng.randrange(100)}", "qty": rng.randint(1, 5)}],
                },
            }
        )
    return pool


@dataclass(frozen=True)
class Rate:
    """Events per second of the measuring thread's CPU time, and of wall-clock time."""

    cpu: float
    wall: float


class _Stopwatch:
    # Thread CPU time is what "one core" can do; on a shared machine the wall clock also
    # counts other processes' turns, so it is reported alongside, not as the figure.
    def __init__(self) -> None:
        self.cpu, self.wall = time.thread_time(), time.perf_counter()

    def rate(self, count: int) -> Rate:
        cpu, wall = time.thread_time() - self.cpu, time.perf_counter() - self.wall
        return Rate(cpu=count / cpu if cpu > 0 else 0.0, wall=count / wall if wall > 0 else 0.0)


def measure_indexed(ruleset: RuleSet[str], pool: Sequence[Event], count: int) -> tuple[Rate, int]:
    """(rate, matches) of ``count`` events from ``pool`` (round and round) through ``ruleset``."""
    matching = ruleset.matching
    matched = 0
    done = 0
    watch = _Stopwatch()
    while done < count:
        for event in pool[: count - done]:
            matched += len(matching(event))
        done += min(len(pool), count - done)
    return watch.rate(done), matched


def measure_naive(
    rule_list: Rules, pool: Sequence[Event], count: int
) -> tuple[Rate, list[list[str]]]:
    """(rate, names matched per event) of the first ``count`` events of ``pool``, calling
    every rule's pattern in turn."""
    chosen = pool[:count]
    results: list[list[str]] = []
    watch = _Stopwatch()
    for event in chosen:
        results.append([name for name, pattern in rule_list if pattern.matches(event)])
    return watch.rate(len(chosen)), results


def _name(size: int) -> str:
    return f"events_matcher_{size}_rule" + ("" if size == 1 else "s")


def run(settings: Settings, scale: float) -> Iterator[Result]:
    counts = Counts.scaled(scale)
    pool = events(min(POOL, counts.indexed))
    all_rules = rules(max(SIZES))

    naive_count = min(counts.naive, len(pool))
    naive_rate, naive_results = measure_naive(all_rules, pool, naive_count)
    yield figure(
        "events_matcher_naive_1000_rules",
        "events/s",
        naive_rate.cpu,
        wall_events_s=round(naive_rate.wall, 1),
        rules=len(all_rules),
        count=naive_count,
        matches_per_event=round(sum(map(len, naive_results)) / naive_count, 4),
    )

    for size in SIZES:
        start = time.perf_counter()
        ruleset = RuleSet(all_rules[:size])
        build_ms = (time.perf_counter() - start) * 1000
        if size == len(all_rules):
            for event, expected in zip(pool, naive_results, strict=False):
                if ruleset.matching(event) != expected:
                    raise AssertionError(f"RuleSet disagrees with the naive loop on {event}")
        measure_indexed(ruleset, pool, min(len(pool), counts.indexed // 10))  # warm-up
        rate, matched = measure_indexed(ruleset, pool, counts.indexed)
        yield figure(
            _name(size),
            "events/s",
            rate.cpu,
            ("events_matcher_naive_1000_rules", naive_rate.cpu) if size == len(all_rules) else None,
            wall_events_s=round(rate.wall, 1),
            rules=size,
            count=counts.indexed,
            matches_per_event=round(matched / counts.indexed, 4),
            index_build_ms=round(build_ms, 1),
        )
