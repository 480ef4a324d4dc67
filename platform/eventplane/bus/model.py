"""Transitional: the bus model moved to ``eventplane.bus.models`` (one module per
sub-resource). This re-export keeps imports in modules other branches are changing
working until they move; delete it once nothing imports ``eventplane.bus.model``."""

from eventplane.bus.models import *  # noqa: F403
from eventplane.bus.models import __all__ as __all__
