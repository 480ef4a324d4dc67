"""Resize one image; a corrupt one fails."""


class CorruptImage(Exception):
    pass


def handler(event, context):
    if event.get("corrupt"):
        raise CorruptImage(f"{event['name']} cannot be decoded")
    return {"name": event["name"], "thumbnail": f"thumbs/{event['name']}"}
