"""Which function a reference names: names are per account (``eventplane.names``).

A bare FunctionName (``handler``, ``handler:live``) names the caller's account's
function; a full or partial ARN names the one in the account it gives, else (ARNs pasted
from AWS carry other account ids) the installation's of that name. The cores key every
function, version, alias, policy, invoke configuration and mapping by the function's
internal name, which only ARNs and names shown to callers turn back into the plain name.
"""

from __future__ import annotations

from eventplane import names
from eventplane.functions.models import FUNCTION, function_reference
from eventplane.registry import Registry
from eventplane.security.accounts import caller_account, owner_of

__all__ = ["internal", "named"]


def internal(registry: Registry, name: str, account: str | None, caller: str | None = None) -> str:
    """The internal name of the function ``name`` in the account an ARN gives (None: a
    bare name, in ``caller``'s, by default the caller's): the first candidate that
    exists, else the first (whose "not found" names it).

    A function another account created while names were unique per installation is
    kept under its plain name: its owner's references still reach it.
    """
    owner = account or caller or caller_account()
    found = names.candidates(name, account, owner)
    if len(found) > 1:
        # From the view first: an ARN pasted from AWS (another account's id, the
        # installation's function) must not cost a catch-up with Kafka on each call.
        for candidate in found:
            if registry.peek(FUNCTION, candidate) is not None:
                return candidate
    for candidate in found:
        if registry.get(FUNCTION, candidate) is not None:
            return candidate
    if found[0] != name:
        legacy = registry.get(FUNCTION, name)
        if legacy is not None and owner_of(legacy.spec) == owner:
            return name
    return found[0]


def named(
    registry: Registry, ref: str, qualifier: str | None = None, *, allow_qualifier: bool = True
) -> tuple[str, str | None]:
    """(internal name, qualifier or None) of a FunctionName as Lambda accepts it."""
    account, name, qualifier = function_reference(ref, qualifier, allow_qualifier=allow_qualifier)
    return internal(registry, name, account), qualifier
