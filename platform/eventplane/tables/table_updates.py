"""UpdateTable and UpdateTimeToLive: a new table definition from the old one, DynamoDB's rules.

Both are pure: they take the stored ``TableDef`` and the request and return the
definition to store (the engine writes it to the registry, the compacted
``eventplane.resources`` topic, so the change survives restarts and reaches
every replica), or raise ValidationException with DynamoDB's message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from eventplane.errors import ValidationException
from eventplane.tables import repartition
from eventplane.tables.index_updates import GlobalSecondaryIndexUpdate, apply_updates
from eventplane.tables.model import (
    STREAM_RETENTION_MS,
    VIEW_TYPES,
    AttributeDefinition,
    PastStream,
    ProvisionedThroughput,
    StreamSpecification,
    TableDef,
    TimeToLive,
    check_throughput,
    stream_label,
)

BILLING_MODES = ("PROVISIONED", "PAY_PER_REQUEST")


@dataclass(frozen=True, slots=True)
class UpdateTableInput:
    """UpdateTable's parameters; None (or "") means "not in the request"."""

    table_name: str
    stream_specification: StreamSpecification | None = None
    billing_mode: str = ""
    provisioned_throughput: ProvisionedThroughput | None = None
    deletion_protection_enabled: bool | None = None
    attribute_definitions: Sequence[AttributeDefinition] = ()  # for a GSI Create
    global_secondary_index_updates: Sequence[GlobalSecondaryIndexUpdate] = ()
    # eventplane extension: a new partition count (``repartition.py``); 0 = unchanged
    partitions: int = 0


def update_time_to_live(table: TableDef, spec: TimeToLive) -> TableDef:
    """Enable or disable TTL. DynamoDB refuses a change that changes nothing, and a TTL
    on one attribute must be disabled before another is enabled."""
    name = spec.attribute_name
    if not 1 <= len(name) <= 255:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at "
            "'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must "
            "have length greater than or equal to 1"
        )
    current = table.ttl
    if current.enabled and current.attribute_name != name:
        raise ValidationException(
            "TimeToLive is active on a different AttributeName: current AttributeName is "
            + current.attribute_name
        )
    if spec.enabled and current.enabled:
        raise ValidationException("TimeToLive is already enabled")
    if not spec.enabled and not current.enabled:
        raise ValidationException("TimeToLive is already disabled")
    return dataclasses.replace(table, ttl=TimeToLive(name, spec.enabled))


def update_table(table: TableDef, req: UpdateTableInput, now_ms: int) -> TableDef:
    """The definition after UpdateTable (streams, billing, throughput, deletion protection)."""
    if (
        req.stream_specification is None
        and not req.billing_mode
        and req.provisioned_throughput is None
        and req.deletion_protection_enabled is None
        and not req.global_secondary_index_updates
        and not req.partitions
    ):
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates, SSESpecification or DeletionProtectionEnabled is "
            "required"
        )
    new = table
    if req.stream_specification is not None:
        new = _update_stream(new, req.stream_specification, now_ms)
    if req.billing_mode or req.provisioned_throughput is not None:
        new = _update_billing(new, req.billing_mode, req.provisioned_throughput)
    if req.deletion_protection_enabled is not None:
        new = dataclasses.replace(new, deletion_protection=req.deletion_protection_enabled)
    if req.global_secondary_index_updates:
        new = apply_updates(new, req.global_secondary_index_updates, req.attribute_definitions)
    if req.partitions:
        new = repartition.start(new, req.partitions)
    return new


def _update_stream(table: TableDef, spec: StreamSpecification, now_ms: int) -> TableDef:
    if spec.stream_enabled:
        if table.stream.stream_enabled:
            # The view type of a stream is fixed for its life: a new one needs off, then on.
            raise ValidationException(
                f"Table already has an enabled stream: TableName: {table.plain_name}"
            )
        if not spec.stream_view_type:
            raise ValidationException(
                "One or more parameter values were invalid: If stream is being enabled then "
                "UpdateViewType is required"
            )
        if spec.stream_view_type not in VIEW_TYPES:
            raise ValidationException(
                f"1 validation error detected: Value '{spec.stream_view_type}' at "
                "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [" + ", ".join(VIEW_TYPES) + "]"
            )
        label = stream_label(now_ms)
        if label <= table.stream_label:  # each enabling is a new stream with its own ARN
            label = stream_label(_label_ms(table.stream_label) + 1)
        return dataclasses.replace(table, stream=spec, stream_label=label)
    if spec.stream_view_type:
        raise ValidationException(
            "One or more parameter values were invalid: If stream is being disabled, then "
            "UpdateViewType must not be specified"
        )
    if not table.stream.stream_enabled:
        raise ValidationException(f"Table has no stream to disable: TableName: {table.plain_name}")
    # LatestStreamArn stays (its stream now DISABLED), as DynamoDB keeps it; the stream
    # stays readable for its retention, also after a new one is switched on.
    past = [p for p in table.past_streams if now_ms - p.disabled_ms < STREAM_RETENTION_MS]
    past.append(PastStream(table.stream_label, table.stream.stream_view_type, now_ms))
    return dataclasses.replace(table, stream=StreamSpecification(), past_streams=tuple(past))


def _label_ms(label: str) -> int:
    dt = datetime.strptime(label, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _update_billing(
    table: TableDef, billing_mode: str, throughput: ProvisionedThroughput | None
) -> TableDef:
    billing = billing_mode or table.billing_mode
    if billing not in BILLING_MODES:
        raise ValidationException(
            f"1 validation error detected: Value '{billing}' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        )
    if billing == "PROVISIONED" and throughput is None and table.billing_mode == "PROVISIONED":
        throughput = table.throughput  # only the mode was repeated
    checked = check_throughput(billing, throughput)
    if (
        checked is not None
        and billing_mode in ("", table.billing_mode)
        and checked == table.throughput
    ):
        raise ValidationException(
            "The provisioned throughput for the table will not change. The requested value "
            "equals the current value. Current ReadCapacityUnits provisioned for the table: "
            f"{checked.read_capacity_units}. Requested ReadCapacityUnits: "
            f"{checked.read_capacity_units}. Current WriteCapacityUnits provisioned for the "
            f"table: {checked.write_capacity_units}. Requested WriteCapacityUnits: "
            f"{checked.write_capacity_units}."
        )
    return dataclasses.replace(table, billing_mode=billing, throughput=checked)
