from typing import Any


def handler(event: Any, context: Any) -> str:
    return f"dotted:{event}"
