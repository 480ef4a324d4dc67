"""Topics (SNS semantics): subscriptions select messages with compiled filter policies."""

from eventplane.topics.errors import InvalidFilterPolicy
from eventplane.topics.filter_policy import CompiledFilterPolicy, compile_filter_policy

__all__ = ["CompiledFilterPolicy", "InvalidFilterPolicy", "compile_filter_policy"]
