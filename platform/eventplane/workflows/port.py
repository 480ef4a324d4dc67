"""The workflows' port: how anything outside the workflows room starts an execution.

A bus rule whose target is a state machine (``arn:aws:states:...:stateMachine:NAME``)
starts an execution of it with the target's input, as EventBridge does (the target's
endpoint is the machine's internal name in the ARN's account: ``eventplane.names``).
The port writes the same inbox record StartExecution appends, so the start is one more
record in the rule dispatcher's Kafka transaction: exactly one execution per matched
event, started when (and only if) the dispatcher commits. The execution's name is
generated.
"""

from __future__ import annotations

import json
import time
import uuid

from eventplane import arn as arns
from eventplane import names
from eventplane.delivery.payload import Payload, TargetUnavailable
from eventplane.kafka import naming
from eventplane.kafka.outgoing import Outgoing
from eventplane.registry import Registry
from eventplane.security.accounts import owner_of
from eventplane.workflows import records
from eventplane.workflows.model import Start

__all__ = ["StateMachinePort"]

# The registry kind of state machines (WorkflowsCore's KIND).
_KIND = "statemachine"
# StartExecution's input quota (UTF-8 bytes).
MAX_INPUT_BYTES = 256 * 1024


class StateMachinePort:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def fifo(self, endpoint: str) -> bool:
        return False

    def record(self, endpoint: str, payload: Payload) -> Outgoing:
        """The inbox record that starts an execution of machine ``endpoint``.

        Raises TargetUnavailable when the machine does not exist, is Express (this port
        starts Standard executions only) or the input is not a JSON text within quota.
        """
        # The ARN's account's machine, else (ARNs pasted from AWS, machines made before
        # names were per account) the one of that plain name: from the view first, so
        # such an ARN costs no catch-up with Kafka per event.
        candidates = names.resolutions(endpoint)
        found = None
        for look in (self._registry.peek, self._registry.get):
            hit = next(((c, r) for c in candidates if (r := look(_KIND, c)) is not None), None)
            if hit is not None:
                endpoint, found = hit
                break
        plain = names.plain(endpoint)
        account = owner_of(found.spec) if found is not None else names.unqualify(endpoint)[0]
        machine_arn = arns.state_machine_arn(plain, account)
        if found is None:
            raise TargetUnavailable(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine_arn}'"
            )
        sender = arns.account_of(payload.source_arn or "") or arns.identity().account
        if payload.source_arn is not None and sender != account:
            # Another account's rule: Step Functions has no resource policy to let it in.
            raise TargetUnavailable(
                "AccessDenied",
                f"State machine {machine_arn} takes no deliveries from another account",
            )
        if found.spec.get("type", "STANDARD") != "STANDARD":
            raise TargetUnavailable(
                "InvalidParameter",
                f"State machine {machine_arn} is EXPRESS: rule targets start Standard "
                "state machines only",
            )
        if len(payload.body.encode()) > MAX_INPUT_BYTES:
            raise TargetUnavailable(
                "InvalidExecutionInput", f"Input is larger than {MAX_INPUT_BYTES} bytes"
            )
        try:
            json.loads(payload.body)
        except ValueError as exc:
            raise TargetUnavailable(
                "InvalidExecutionInput", f"Invalid State Machine Execution Input: {exc}"
            ) from None
        execution = arns.execution_arn(plain, str(uuid.uuid4()), account=account)
        rec = records.InboxRecord(
            execution,
            Start(payload.body, role_arn=found.spec.get("roleArn") or None),
            machine_arn,
            found.spec["definition"],
        )
        value, headers = records.encode_inbox(rec, int(time.time() * 1000))
        return Outgoing(naming.WF_INBOX, value, headers, key=execution)
