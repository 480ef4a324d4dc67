"""What every boto3 example shares: refuse to run against real AWS by accident."""

from __future__ import annotations

import os
import sys


def require_local_endpoint() -> str:
    """The endpoint boto3 will use, from AWS_ENDPOINT_URL (boto3 reads it itself).

    The examples create and delete queues, topics and buses; without an endpoint they
    would do so in whatever AWS account the machine's credentials reach.
    """
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        sys.exit(
            "set AWS_ENDPOINT_URL to eventplane's gateway first, e.g.\n"
            "  AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_DEFAULT_REGION=us-east-1 \\\n"
            "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test python " + sys.argv[0]
        )
    return endpoint
