"""DynamoDB's request and result shapes, as the AWS-protocol gateway hands them to the core.

One ``<Action>Request`` / ``<Action>Result`` pair per action, fields in snake_case of
DynamoDB's member names (botocore's ``xform_name``), so the gateway fills and reads them
by name alone. Items, keys and expression values stay DynamoDB's attribute-value dicts
(``{"S": "x"}``, binaries as bytes): the core validates them with DynamoDB's messages.
The legacy members (Expected, AttributeUpdates, KeyConditions, ...) are fields so the
core can refuse them by name instead of ignoring them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]
Names = dict[str, str]


# --- tables -----------------------------------------------------------------------------------


@dataclass
class KeySchemaElement:
    attribute_name: str = ""
    key_type: str = ""


@dataclass
class AttributeDefinition:
    attribute_name: str = ""
    attribute_type: str = ""


@dataclass
class StreamSpecification:
    stream_enabled: bool = False
    stream_view_type: str = ""


@dataclass
class ProvisionedThroughput:
    read_capacity_units: int = 0
    write_capacity_units: int = 0


@dataclass
class ProvisionedThroughputDescription:
    read_capacity_units: int = 0
    write_capacity_units: int = 0
    number_of_decreases_today: int = 0


@dataclass
class BillingModeSummary:
    billing_mode: str = ""


@dataclass
class Projection:
    projection_type: str = ""
    non_key_attributes: list[str] | None = None


@dataclass
class SecondaryIndex:
    """A GlobalSecondaryIndex or LocalSecondaryIndex of CreateTable (or a Create update)."""

    index_name: str = ""
    key_schema: list[KeySchemaElement] = field(default_factory=list)
    projection: Projection | None = None


@dataclass
class DeleteGlobalSecondaryIndexAction:
    index_name: str = ""


@dataclass
class GlobalSecondaryIndexUpdate:
    create: SecondaryIndex | None = None
    delete: DeleteGlobalSecondaryIndexAction | None = None
    update: Any = None


@dataclass
class LocalIndexDescription:
    index_name: str
    key_schema: list[KeySchemaElement]
    projection: Projection
    index_arn: str
    item_count: int
    index_size_bytes: int


@dataclass
class GlobalIndexDescription(LocalIndexDescription):
    index_status: str = ""
    backfilling: bool | None = None


@dataclass
class TableDescription:
    table_name: str
    table_arn: str
    table_id: str
    table_status: str
    key_schema: list[KeySchemaElement]
    attribute_definitions: list[AttributeDefinition]
    creation_date_time: dt.datetime
    item_count: int
    table_size_bytes: int
    provisioned_throughput: ProvisionedThroughputDescription
    billing_mode_summary: BillingModeSummary | None = None
    stream_specification: StreamSpecification | None = None
    latest_stream_arn: str = ""
    latest_stream_label: str = ""
    deletion_protection_enabled: bool = False
    global_secondary_indexes: list[GlobalIndexDescription] | None = None
    local_secondary_indexes: list[LocalIndexDescription] | None = None


@dataclass
class Tag:
    key: str = ""
    value: str = ""


@dataclass
class CreateTableRequest:
    table_name: str = ""
    key_schema: list[KeySchemaElement] = field(default_factory=list)
    attribute_definitions: list[AttributeDefinition] = field(default_factory=list)
    stream_specification: StreamSpecification | None = None
    billing_mode: str = ""
    provisioned_throughput: ProvisionedThroughput | None = None
    deletion_protection_enabled: bool = False
    global_secondary_indexes: list[SecondaryIndex] | None = None
    local_secondary_indexes: list[SecondaryIndex] | None = None
    tags: list[Tag] | None = None


@dataclass
class UpdateTableRequest:
    table_name: str = ""
    stream_specification: StreamSpecification | None = None
    billing_mode: str = ""
    provisioned_throughput: ProvisionedThroughput | None = None
    deletion_protection_enabled: bool | None = None
    global_secondary_index_updates: list[GlobalSecondaryIndexUpdate] | None = None
    attribute_definitions: list[AttributeDefinition] | None = None


@dataclass
class DescribeTableRequest:
    table_name: str = ""


@dataclass
class DeleteTableRequest:
    table_name: str = ""


@dataclass
class TableResult:
    """CreateTable and UpdateTable answer TableDescription, DeleteTable too."""

    table_description: TableDescription


@dataclass
class DescribeTableResult:
    table: TableDescription


@dataclass
class ListTablesRequest:
    exclusive_start_table_name: str = ""
    limit: int = 0


@dataclass
class ListTablesResult:
    table_names: list[str]
    last_evaluated_table_name: str = ""


@dataclass
class TimeToLiveSpecification:
    attribute_name: str = ""
    enabled: bool = False


@dataclass
class UpdateTimeToLiveRequest:
    table_name: str = ""
    time_to_live_specification: TimeToLiveSpecification | None = None


@dataclass
class UpdateTimeToLiveResult:
    time_to_live_specification: TimeToLiveSpecification


@dataclass
class DescribeContinuousBackupsRequest:
    table_name: str = ""


@dataclass
class PointInTimeRecoverySpecification:
    point_in_time_recovery_enabled: bool = False
    recovery_period_in_days: int | None = None


@dataclass
class UpdateContinuousBackupsRequest:
    table_name: str = ""
    point_in_time_recovery_specification: PointInTimeRecoverySpecification | None = None


@dataclass
class PointInTimeRecoveryDescription:
    point_in_time_recovery_status: str


@dataclass
class ContinuousBackupsDescription:
    continuous_backups_status: str
    point_in_time_recovery_description: PointInTimeRecoveryDescription


@dataclass
class DescribeContinuousBackupsResult:
    continuous_backups_description: ContinuousBackupsDescription


@dataclass
class UpdateContinuousBackupsResult(DescribeContinuousBackupsResult):
    pass


@dataclass
class DescribeTimeToLiveRequest:
    table_name: str = ""


@dataclass
class TimeToLiveDescription:
    time_to_live_status: str
    attribute_name: str = ""


@dataclass
class DescribeTimeToLiveResult:
    time_to_live_description: TimeToLiveDescription


# --- tags, limits and endpoints ---------------------------------------------------------------


@dataclass
class TagResourceRequest:
    resource_arn: str = ""
    tags: list[Tag] = field(default_factory=list)


@dataclass
class UntagResourceRequest:
    resource_arn: str = ""
    tag_keys: list[str] = field(default_factory=list)


@dataclass
class ListTagsOfResourceRequest:
    resource_arn: str = ""
    next_token: str = ""


@dataclass
class ListTagsOfResourceResult:
    tags: list[dict[str, str]]  # {"Key", "Value"} mappings, so an empty value is kept
    next_token: str = ""


@dataclass
class Empty:
    """TagResource and UntagResource answer nothing."""


@dataclass
class DescribeLimitsRequest:
    pass


@dataclass
class DescribeLimitsResult:
    account_max_read_capacity_units: int
    account_max_write_capacity_units: int
    table_max_read_capacity_units: int
    table_max_write_capacity_units: int


@dataclass
class DescribeEndpointsRequest:
    pass


@dataclass
class Endpoint:
    address: str
    cache_period_in_minutes: int


@dataclass
class DescribeEndpointsResult:
    endpoints: list[Endpoint]


# --- items ------------------------------------------------------------------------------------


@dataclass
class Capacity:
    capacity_units: float


@dataclass
class ConsumedCapacity:
    table_name: str
    capacity_units: float
    # ReturnConsumedCapacity=INDEXES: the table's and each index's share.
    table: Capacity | None = None
    global_secondary_indexes: dict[str, Capacity] | None = None
    local_secondary_indexes: dict[str, Capacity] | None = None


@dataclass
class PutItemRequest:
    table_name: str = ""
    item: Item = field(default_factory=dict)
    condition_expression: str = ""
    expression_attribute_names: Names | None = None
    expression_attribute_values: Item | None = None
    return_values: str = ""
    return_values_on_condition_check_failure: str = ""
    return_consumed_capacity: str = ""
    expected: Item | None = None
    conditional_operator: str = ""


@dataclass
class UpdateItemRequest:
    table_name: str = ""
    key: Item = field(default_factory=dict)
    update_expression: str = ""
    condition_expression: str = ""
    expression_attribute_names: Names | None = None
    expression_attribute_values: Item | None = None
    return_values: str = ""
    return_values_on_condition_check_failure: str = ""
    return_consumed_capacity: str = ""
    expected: Item | None = None
    attribute_updates: Item | None = None
    conditional_operator: str = ""


@dataclass
class DeleteItemRequest:
    table_name: str = ""
    key: Item = field(default_factory=dict)
    condition_expression: str = ""
    expression_attribute_names: Names | None = None
    expression_attribute_values: Item | None = None
    return_values: str = ""
    return_values_on_condition_check_failure: str = ""
    return_consumed_capacity: str = ""
    expected: Item | None = None
    conditional_operator: str = ""


@dataclass
class WriteItemResult:
    """PutItem, UpdateItem and DeleteItem all answer Attributes (per ReturnValues)."""

    attributes: Item | None = None
    consumed_capacity: ConsumedCapacity | None = None


@dataclass
class GetItemRequest:
    table_name: str = ""
    key: Item = field(default_factory=dict)
    consistent_read: bool = False
    projection_expression: str = ""
    expression_attribute_names: Names | None = None
    return_consumed_capacity: str = ""
    attributes_to_get: list[str] | None = None


@dataclass
class GetItemResult:
    item: Item | None = None
    consumed_capacity: ConsumedCapacity | None = None


@dataclass
class QueryRequest:
    table_name: str = ""
    index_name: str = ""
    key_condition_expression: str = ""
    filter_expression: str = ""
    projection_expression: str = ""
    expression_attribute_names: Names | None = None
    expression_attribute_values: Item | None = None
    scan_index_forward: bool = True
    limit: int = 0
    exclusive_start_key: Item | None = None
    select: str = ""
    consistent_read: bool = False
    return_consumed_capacity: str = ""
    key_conditions: Item | None = None
    query_filter: Item | None = None
    attributes_to_get: list[str] | None = None
    conditional_operator: str = ""


@dataclass
class ScanRequest:
    table_name: str = ""
    index_name: str = ""
    filter_expression: str = ""
    projection_expression: str = ""
    expression_attribute_names: Names | None = None
    expression_attribute_values: Item | None = None
    limit: int = 0
    exclusive_start_key: Item | None = None
    select: str = ""
    segment: int | None = None
    total_segments: int | None = None
    consistent_read: bool = False
    return_consumed_capacity: str = ""
    scan_filter: Item | None = None
    attributes_to_get: list[str] | None = None
    conditional_operator: str = ""


@dataclass
class PageResult:
    """Query and Scan: the page, and the key to start the next one from."""

    count: int
    scanned_count: int
    items: list[Item] | None = None  # absent when Select is COUNT
    last_evaluated_key: Item | None = None
    consumed_capacity: ConsumedCapacity | None = None


# --- batches and transactions -----------------------------------------------------------------


@dataclass
class KeysAndAttributes:
    keys: list[Item] = field(default_factory=list)
    projection_expression: str = ""
    expression_attribute_names: Names | None = None
    consistent_read: bool = False
    attributes_to_get: list[str] | None = None


@dataclass
class BatchGetItemRequest:
    request_items: dict[str, KeysAndAttributes] = field(default_factory=dict)
    return_consumed_capacity: str = ""


@dataclass
class BatchGetItemResult:
    responses: dict[str, list[Item]]
    unprocessed_keys: dict[str, KeysAndAttributes]
    consumed_capacity: list[ConsumedCapacity] | None = None


@dataclass
class PutRequest:
    item: Item = field(default_factory=dict)


@dataclass
class DeleteRequest:
    key: Item = field(default_factory=dict)


@dataclass
class WriteRequest:
    put_request: PutRequest | None = None
    delete_request: DeleteRequest | None = None


@dataclass
class BatchWriteItemRequest:
    request_items: dict[str, list[WriteRequest]] = field(default_factory=dict)
    return_consumed_capacity: str = ""
    return_item_collection_metrics: str = ""


@dataclass
class BatchWriteItemResult:
    unprocessed_items: dict[str, list[WriteRequest]]
    consumed_capacity: list[ConsumedCapacity] | None = None


@dataclass
class TransactPart:
    """Put, Update, Delete or ConditionCheck of TransactWriteItems (members they share)."""

    table_name: str = ""
    item: Item | None = None
    key: Item | None = None
    condition_expression: str = ""
    update_expression: str = ""
    expression_attribute_names: Names | None = None
    expression_attribute_values: Item | None = None
    return_values_on_condition_check_failure: str = ""


@dataclass
class TransactWriteItem:
    condition_check: TransactPart | None = None
    put: TransactPart | None = None
    delete: TransactPart | None = None
    update: TransactPart | None = None


@dataclass
class TransactWriteItemsRequest:
    transact_items: list[TransactWriteItem] = field(default_factory=list)
    client_request_token: str = ""
    return_consumed_capacity: str = ""
    return_item_collection_metrics: str = ""


@dataclass
class TransactWriteItemsResult:
    consumed_capacity: list[ConsumedCapacity] | None = None


@dataclass
class Get:
    table_name: str = ""
    key: Item = field(default_factory=dict)
    projection_expression: str = ""
    expression_attribute_names: Names | None = None


@dataclass
class TransactGetItem:
    get: Get | None = None


@dataclass
class TransactGetItemsRequest:
    transact_items: list[TransactGetItem] = field(default_factory=list)
    return_consumed_capacity: str = ""


@dataclass
class ItemResponse:
    item: Item | None = None


@dataclass
class TransactGetItemsResult:
    responses: list[ItemResponse]
    consumed_capacity: list[ConsumedCapacity] | None = None
