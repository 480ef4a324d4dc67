"""Transitional: the functions model moved to ``eventplane.functions.models`` (one module
per sub-resource). This re-export keeps imports in modules other branches are changing
working until they move; delete it once nothing imports ``eventplane.functions.model``."""

from eventplane.functions.models import *  # noqa: F403
from eventplane.functions.models import __all__ as __all__
