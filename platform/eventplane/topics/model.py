"""Transitional: the topics model is ``eventplane.topics.models`` (the name every room
uses). This re-export keeps imports in modules other branches are changing working until
they move; delete it once nothing imports ``eventplane.topics.model``."""

from eventplane.topics.models import *  # noqa: F403
from eventplane.topics.models import __all__ as __all__
