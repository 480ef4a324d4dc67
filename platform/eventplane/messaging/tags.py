"""Resource tags as SQS and SNS both limit them: at most 50 per resource, keys of 1-128
characters that do not start with ``aws:``, values of at most 256.

Each service codes and words the refusal its own way, so ``tag_problem`` only says what
is wrong and the caller raises its service's error.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_TAGS = 50


def tag_problem(tags: Mapping[str, str]) -> tuple[bool, str] | None:
    """None when ``tags`` keep the limits, else (too many tags?, the reason)."""
    if len(tags) > MAX_TAGS:
        return True, f"at most {MAX_TAGS} tags per resource, this request would make {len(tags)}"
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            return False, f"tag key {key[:128]!r}: a key is 1 to 128 characters long"
        if key.lower().startswith("aws:"):
            return False, f"tag key {key!r}: the aws: prefix is reserved for AWS use"
        if len(value) > 256:
            return False, f"tag value of {key!r}: a value is at most 256 characters long"
    return None
