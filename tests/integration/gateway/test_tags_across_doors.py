"""Queue and topic tags through both front doors of one server: what the gRPC SDK sets,
boto3 lists through the gateway, and the other way round (one core, one tag set)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from eventplane.client import Client
from eventplane.errors import EventplaneError, InvalidParameterValue
from eventplane.testing import EventplaneProcess
from eventplane.topics.errors import TagLimitExceeded

pytestmark = pytest.mark.integration


@pytest.fixture
def sdk(gateway: EventplaneProcess) -> Iterator[Client]:
    with gateway.client() as c:
        yield c


def test_queue_tags_set_over_grpc_are_listed_by_boto3_and_back(sdk: Client, sqs: Any) -> None:
    name = f"doors-{uuid.uuid4().hex[:12]}"
    grpc_url = sdk.queues.create_queue(name)
    try:
        aws_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sdk.queues.tag_queue(grpc_url, {"team": "shop", "env": "dev"})
        assert sqs.list_queue_tags(QueueUrl=aws_url)["Tags"] == {"team": "shop", "env": "dev"}

        sqs.tag_queue(QueueUrl=aws_url, Tags={"env": "prod", "owner": "gw"})
        assert sdk.queues.list_queue_tags(name) == {"team": "shop", "env": "prod", "owner": "gw"}

        sdk.queues.untag_queue(grpc_url, ["team", "owner"])
        assert sqs.list_queue_tags(QueueUrl=aws_url)["Tags"] == {"env": "prod"}

        # Both doors refuse a 51st tag with the same code, counting the tags already set.
        too_many = {f"k{i}": "v" for i in range(50)}
        with pytest.raises(InvalidParameterValue, match="would make 51"):
            sdk.queues.tag_queue(grpc_url, too_many)
        with pytest.raises(ClientError) as refused:
            sqs.tag_queue(QueueUrl=aws_url, Tags=too_many)
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert "would make 51" in refused.value.response["Error"]["Message"]
    finally:
        with contextlib.suppress(EventplaneError):
            sdk.queues.delete_queue(grpc_url)


def test_topic_tags_set_over_grpc_are_listed_by_boto3_and_back(sdk: Client, sns: Any) -> None:
    arn = sdk.topics.create_topic(f"doors-{uuid.uuid4().hex[:12]}")
    try:
        sdk.topics.tag_resource(arn, {"team": "shop"})
        listed = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
        assert listed == [{"Key": "team", "Value": "shop"}]

        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])
        assert sdk.topics.list_tags_for_resource(arn) == {"team": "shop", "env": "dev"}

        sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
        assert sdk.topics.list_tags_for_resource(arn) == {"env": "dev"}

        too_many = {f"k{i}": "v" for i in range(50)}
        with pytest.raises(TagLimitExceeded):
            sdk.topics.tag_resource(arn, too_many)
        with pytest.raises(sns.exceptions.TagLimitExceededException):
            sns.tag_resource(
                ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in too_many.items()]
            )
    finally:
        with contextlib.suppress(EventplaneError):
            sdk.topics.delete_topic(arn)
