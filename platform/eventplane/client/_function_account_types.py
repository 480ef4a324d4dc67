"""The account settings the Functions client returns (``get_account_settings``): Lambda's
``AccountLimit`` and ``AccountUsage``, and their mapping from protobuf."""

from __future__ import annotations

from dataclasses import dataclass

from eventplane._gen.v1 import functions_pb2 as pb


@dataclass(frozen=True)
class AccountLimit:
    """What the account may use (Lambda's ``AccountLimit``).

    Attributes:
        total_code_size: bytes of code the account may store (75 GB, as Lambda's default).
        code_size_unzipped: bytes of one unzipped package at most.
        code_size_zipped: bytes of one zip at most.
        concurrent_executions: invocations the runner runs at once.
        unreserved_concurrent_executions: of those, the ones no function has reserved.
    """

    total_code_size: int
    code_size_unzipped: int
    code_size_zipped: int
    concurrent_executions: int
    unreserved_concurrent_executions: int


@dataclass(frozen=True)
class AccountUsage:
    """What the account uses (Lambda's ``AccountUsage``).

    Attributes:
        total_code_size: bytes of code stored, each package of ``$LATEST`` and the
            versions counted once.
        function_count: how many functions there are.
    """

    total_code_size: int
    function_count: int


@dataclass(frozen=True)
class AccountSettings:
    """What ``get_account_settings`` returns: the account's limits and its usage."""

    account_limit: AccountLimit
    account_usage: AccountUsage


def account_settings(r: pb.GetAccountSettingsResponse) -> AccountSettings:
    limit, usage = r.account_limit, r.account_usage
    return AccountSettings(
        AccountLimit(
            limit.total_code_size,
            limit.code_size_unzipped,
            limit.code_size_zipped,
            limit.concurrent_executions,
            limit.unreserved_concurrent_executions,
        ),
        AccountUsage(usage.total_code_size, usage.function_count),
    )
