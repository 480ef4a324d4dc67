"""DynamoDB's tag and account actions (a part of ``TableOperations``): TagResource,
UntagResource, ListTagsOfResource, DescribeLimits, DescribeEndpoints and the
continuous-backups pair.

The tag rules are the engine's (``tags.py``), whichever front door a request came
through. DescribeLimits answers DynamoDB's default quotas (eventplane meters no capacity,
so they bound nothing here; tools that size their requests by them get the usual
numbers). DescribeEndpoints answers one endpoint, ``SELF_ADDRESS``, which the gateway's
binding (``aws.py``) shows as the host the client called, so endpoint-discovering SDKs
keep calling the installation they were pointed at.

eventplane keeps no backups: DescribeContinuousBackups answers both statuses DISABLED
(so tools that read them, such as Terraform's table refresh, work), and
UpdateContinuousBackups accepts turning point-in-time recovery off and refuses turning it
on, rather than claim a recovery it cannot give.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventplane.errors import MissingParameter, ResourceNotFound, ValidationException
from eventplane.errors.tables import TableNotFoundException
from eventplane.tables import shapes as s

if TYPE_CHECKING:
    from eventplane.tables.engine import TableEngine

# DynamoDB's default quotas (per account and per table, in a region).
ACCOUNT_MAX_CAPACITY_UNITS = 80_000
TABLE_MAX_CAPACITY_UNITS = 40_000
# How long SDKs may cache DescribeEndpoints' answer: DynamoDB's own value.
ENDPOINT_CACHE_MINUTES = 1440
# The address DescribeEndpoints gives, which the gateway replaces with its own host.
SELF_ADDRESS = "eventplane://self"
_EMPTY = s.Empty()


def _resource_arn(arn: str) -> str:
    if not arn:
        raise ValidationException(
            "1 validation error detected: Value null at 'resourceArn' failed to satisfy "
            "constraint: Member must not be null"
        )
    return arn


class AccountOperations:
    engine: TableEngine

    async def tag_resource(self, req: s.TagResourceRequest) -> s.Empty:
        pairs = [(t.key, t.value) for t in req.tags]
        await self.engine.tag_resource(_resource_arn(req.resource_arn), pairs)
        return _EMPTY

    async def untag_resource(self, req: s.UntagResourceRequest) -> s.Empty:
        await self.engine.untag_resource(_resource_arn(req.resource_arn), req.tag_keys)
        return _EMPTY

    async def list_tags_of_resource(
        self, req: s.ListTagsOfResourceRequest
    ) -> s.ListTagsOfResourceResult:
        page, token = self.engine.list_tags_of_resource(
            _resource_arn(req.resource_arn), req.next_token
        )
        return s.ListTagsOfResourceResult([{"Key": k, "Value": v} for k, v in page], token)

    async def describe_limits(self, req: s.DescribeLimitsRequest) -> s.DescribeLimitsResult:
        return s.DescribeLimitsResult(
            account_max_read_capacity_units=ACCOUNT_MAX_CAPACITY_UNITS,
            account_max_write_capacity_units=ACCOUNT_MAX_CAPACITY_UNITS,
            table_max_read_capacity_units=TABLE_MAX_CAPACITY_UNITS,
            table_max_write_capacity_units=TABLE_MAX_CAPACITY_UNITS,
        )

    async def describe_endpoints(
        self, req: s.DescribeEndpointsRequest
    ) -> s.DescribeEndpointsResult:
        return s.DescribeEndpointsResult([s.Endpoint(SELF_ADDRESS, ENDPOINT_CACHE_MINUTES)])

    def _backups(self, table_name: str) -> s.ContinuousBackupsDescription:
        if not table_name:
            raise MissingParameter("The request must contain the parameter TableName.")
        try:
            self.engine.get(table_name)
        except ResourceNotFound:
            raise TableNotFoundException(f"Table not found: {table_name}") from None
        return s.ContinuousBackupsDescription(
            "DISABLED", s.PointInTimeRecoveryDescription("DISABLED")
        )

    async def describe_continuous_backups(
        self, req: s.DescribeContinuousBackupsRequest
    ) -> s.DescribeContinuousBackupsResult:
        return s.DescribeContinuousBackupsResult(self._backups(req.table_name))

    async def update_continuous_backups(
        self, req: s.UpdateContinuousBackupsRequest
    ) -> s.UpdateContinuousBackupsResult:
        spec = req.point_in_time_recovery_specification
        if spec is None:
            raise ValidationException(
                "1 validation error detected: Value null at "
                "'pointInTimeRecoverySpecification' failed to satisfy constraint: "
                "Member must not be null"
            )
        found = self._backups(req.table_name)
        if spec.point_in_time_recovery_enabled:
            raise ValidationException(
                "Point-in-time recovery is not supported by eventplane: the table's items "
                "live in Kafka, and no backups are kept."
            )
        return s.UpdateContinuousBackupsResult(found)
