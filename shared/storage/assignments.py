"""The two writes that move load: assign and release, each one DynamoDB transaction.

assign:  agent load + 1   if presence = online and load < capacity
         ticket assignee  if nobody holds it and it is still open (waiting)
release: ticket leaves in_progress (resolved, pending, closed, unassigned, reassigned)
         agent load - 1   if load > 0
Because both halves commit together or not at all, a crash can never leave load counted for a ticket nobody
holds, and under any concurrency no agent passes capacity and no ticket gets two assignees.
"""

from __future__ import annotations

from typing import Callable, Iterable

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.domain.errors import AgentUnavailable, Conflict, TicketTaken
from shared.observability import logger
from shared.storage.models import AgentLoadModel, ThreadItemModel, TicketModel
from shared.storage.transactions import conflicted, failed_conditions, transaction
from shared.domain.timefmt import iso, utcnow


__all__ = ["AgentUnavailable", "TicketTaken", "assign", "change_holding_ticket"]


def assign(
    ticket: TicketModel,
    agent_id: str,
    ticket_actions: list[Action],
    events: Iterable[ThreadItemModel],
    at: str,
    also: Callable[[TransactWrite], None] | None = None,
) -> None:
    """`also` adds the change's other moves (its folder counters) to the same transaction."""
    load = AgentLoadModel(agent_id=agent_id)
    events = list(events)
    load_index, ticket_index = len(events), len(events) + 1
    try:
        with transaction() as tx:
            _take_slot(tx, load, at)
            tx.update(
                ticket,
                actions=list(ticket_actions),  # pynamodb appends the version bump to the list it is given
                condition=TicketModel.assignee.does_not_exist() & (TicketModel.status == "open"),
                add_version_condition=False,
            )
            for event in events:
                tx.save(event)
            if also:
                also(tx)
    except TransactWriteError as error:
        failed = failed_conditions(error)
        if len(failed) > ticket_index and failed[ticket_index]:
            raise TicketTaken(f"ticket {ticket.id} is no longer waiting") from error
        if len(failed) > load_index and failed[load_index]:
            raise AgentUnavailable(f"agent {agent_id} is offline or at capacity") from error
        if conflicted(error):
            raise AgentUnavailable(f"concurrent transaction on agent {agent_id} or ticket {ticket.id}") from error
        raise


def change_holding_ticket(
    ticket: TicketModel,
    ticket_actions: list[Action],
    events: Iterable[ThreadItemModel],
    release_from: str | None,
    take_for: tuple[str, str] | None = None,
    guard: Condition | None = None,
    also: Callable[[TransactWrite], None] | None = None,
) -> None:
    """Apply a ticket change guarded on the version read (and `guard`), moving load with it in one transaction:
    `release_from` gives one slot back; `take_for=(agent, at)` takes one under the capacity condition.

    A release whose counter is already 0 is drift (repaired by the reconciliation sweep); it must not block the
    ticket change, so the change is retried without it. `also` adds the change's folder-counter moves."""
    events = list(events)
    try:
        with transaction() as tx:
            tx.update(ticket, actions=list(ticket_actions), condition=guard)
            if release_from:
                _give_slot_back(tx, AgentLoadModel(agent_id=release_from))
            if take_for:
                _take_slot(tx, AgentLoadModel(agent_id=take_for[0]), take_for[1])
            for event in events:
                tx.save(event)
            if also:
                also(tx)
    except TransactWriteError as error:
        _refusal_of_change(error, ticket, len(events), release_from, take_for)
        logger.warning("load already 0 on release; leaving it to reconciliation", extra={"agent": release_from})
        change_holding_ticket(ticket, ticket_actions, events, None, take_for, guard, also)


def _take_slot(tx: TransactWrite, load: AgentLoadModel, at: str) -> None:
    """One slot more on the agent's counter, only while they are online and below capacity."""
    tx.update(
        load,
        actions=[AgentLoadModel.load.add(1), AgentLoadModel.last_assigned_at.set(at), AgentLoadModel.load_changed_at.set(at)],
        condition=(AgentLoadModel.presence == "online") & (AgentLoadModel.load < AgentLoadModel.capacity),
    )


def _give_slot_back(tx: TransactWrite, load: AgentLoadModel) -> None:
    tx.update(
        load,
        actions=[AgentLoadModel.load.add(-1), AgentLoadModel.load_changed_at.set(iso(utcnow()))],
        condition=AgentLoadModel.load > 0,
    )


def _refusal_of_change(
    error: TransactWriteError, ticket: TicketModel, ticket_index: int, release_from: str | None, take_for: tuple[str, str] | None
) -> None:
    """Raise what a cancelled change means; return only when the one failure is a release at load 0 (drift: the
    change goes through without it)."""
    failed = failed_conditions(error)
    release_index = ticket_index + 1
    take_index = ticket_index + (2 if release_from else 1)
    if len(failed) > ticket_index and failed[ticket_index]:
        raise Conflict(f"ticket {ticket.id} changed meanwhile; reload it and try again") from error
    if take_for and len(failed) > take_index and failed[take_index]:
        raise AgentUnavailable(f"agent {take_for[0]} is offline or at capacity") from error
    if conflicted(error):
        raise Conflict(f"a concurrent change touched ticket {ticket.id}; try again") from error
    if not (release_from and len(failed) > release_index and failed[release_index]):
        raise error
