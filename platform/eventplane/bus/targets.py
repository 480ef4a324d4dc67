"""What a rule target receives: the payload each target gets, written through the
delivery layer.

The rule dispatcher writes these records inside its transaction (exactly once into
queues, topics, buses and function invocations); the delivery worker writes them when it
retries a target that was unavailable, and writes dead letters. The records themselves
are encoded by each target's port (eventplane.delivery). HTTP destinations are not
records: they are POSTed by the delivery worker.
"""

from __future__ import annotations

from eventplane import arn as arns
from eventplane.bus.models import BusEvent, Delivery, RuleDef, TargetDef
from eventplane.delivery import MessageAttribute, Outgoing, Payload, Router, TargetUnavailable
from eventplane.registry import Registry

__all__ = ["Outgoing", "TargetUnavailable", "TargetWriter"]


def _target(target: TargetDef) -> arns.Target:
    return arns.Target(arns.TargetKind(target.kind), target.endpoint, target.arn)


class TargetWriter:
    """Builds the record each kind of target receives, through the delivery layer."""

    def __init__(self, registry: Registry) -> None:
        self._router = Router(registry)

    def fifo_queue(self, name: str) -> bool:
        """Whether ``name`` is an existing FIFO queue (its targets need a message group)."""
        return self._router.fifo(arns.TargetKind.QUEUE, name)

    def record(
        self, target: TargetDef, event: BusEvent, payload: str, rule_arn: str | None = None
    ) -> Outgoing:
        """The record that delivers ``payload`` (the target's input) to ``target``;
        ``rule_arn`` is the rule that sends it (aws:SourceArn in the target's policy)."""
        if target.kind == "http":
            raise TargetUnavailable("InternalFailure", f"target kind {target.kind} has no record")
        return self._router.record(
            _target(target),
            Payload(
                payload,
                group_id=target.message_group_id,
                # EventBridge deduplicates FIFO deliveries by event id.
                dedup_id=str(event.event.get("id", "")) or None,
                origin="bus",
                source_arn=rule_arn,
                event=event.event,
                event_text=event.text,
            ),
        )

    def dead_letter(
        self, target: TargetDef, rule: RuleDef, delivery: Delivery, condition: str
    ) -> Outgoing | None:
        """The record for the target's dead-letter queue, as EventBridge shapes it.

        None when the target has no dead-letter queue or the queue does not exist.
        """
        if target.dead_letter_arn is None:
            return None

        def text(value: str) -> MessageAttribute:
            return MessageAttribute("String", value[:1024])

        attributes = {
            "RULE_ARN": text(rule.arn),
            "TARGET_ARN": text(target.arn),
            "ERROR_CODE": text(delivery.last_error_code or "Unknown"),
            "ERROR_MESSAGE": text(delivery.last_error or ""),
            "EXHAUSTED_RETRY_CONDITION": text(condition),
            "RETRY_ATTEMPTS": MessageAttribute("Number", str(max(0, delivery.attempt - 1))),
        }
        try:
            return self._router.record(
                target.dead_letter_arn,
                Payload(
                    delivery.event,
                    attributes=attributes,
                    group_id=delivery.rule,
                    dedup_id=f"{delivery.event_id}:{delivery.target_id}",
                    # a dead-letter queue of another account checks the rule's account
                    origin="destination",
                    source_arn=rule.arn,
                ),
            )
        except TargetUnavailable:
            return None
