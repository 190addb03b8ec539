"""The agent's folders and how a ticket change moves their counts: pure, so storage can write the moves in the
same transaction as the change and a recount can check them.

A ticket belongs, within its team, to:
- `status#<queue status>` — triage, open, in_progress, pending, resolved, closed (every ticket, always one);
- `channel#<channel>` — while it is open work (not resolved or closed): the channel folders (R3);
- `work#unassigned` — waiting in the team's queue for an agent;
- `assignee#<agent>` — open work someone holds (the caller's is their "mine" folder);
- `work#escalated` — open work with an escalation level above 0;
- `work#sla_breached` — open work whose SLA clock says breached.

A change's counter moves are the memberships it leaves (-1) and enters (+1), per team: a ticket moved to another
team leaves every folder of the old one and enters the new one's.
"""

from __future__ import annotations

import zlib
from collections import Counter
from typing import Any, Iterable, Mapping

from shared.domain.model import Status
from shared.domain.ticket import TRIAGE

SHARDS = 8
"""Counter items per (team, folder): a hot team's writes spread over this many items, summed on read."""

DONE = (Status.RESOLVED.value, Status.CLOSED.value)
STATUS_FOLDERS = (TRIAGE, *(s.value for s in Status))
WORK_FOLDERS = ("unassigned", "escalated", "sla_breached")

Membership = tuple[str, str]  # (team, folder)


def memberships(state: Mapping[str, Any] | None) -> set[Membership]:
    """The folders a ticket's state (`Ticket.state()`, None for no ticket) is in."""
    if state is None:
        return set()
    team, status = str(state["team"]), str(state["status"])
    queue_status = TRIAGE if state.get("in_triage") and status == Status.OPEN.value else status
    folders = {f"status#{queue_status}"}
    if status not in DONE:
        folders.add(f"channel#{state['channel']}")
        folders.update(_work_folders(state, queue_status))
    return {(team, folder) for folder in folders}


def _work_folders(state: Mapping[str, Any], queue_status: str) -> set[str]:
    found = set()
    if queue_status == Status.OPEN.value and not state.get("assignee"):
        found.add("work#unassigned")
    if state.get("assignee"):
        found.add(f"assignee#{state['assignee']}")
    if int(state.get("escalation_level") or 0) > 0:
        found.add("work#escalated")
    if (state.get("sla") or {}).get("state") == "breached":
        found.add("work#sla_breached")
    return found


def folder_moves(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[Membership, int]:
    """+1 for each folder the change enters, -1 for each it leaves (nothing for a change no folder notices)."""
    old, new = memberships(before), memberships(after)
    moves = {member: 1 for member in new - old}
    moves.update({member: -1 for member in old - new})
    return moves


def shard_of(ticket_id: str) -> int:
    """Which of a folder's counter items a ticket's moves go to (stable across processes)."""
    return zlib.crc32(ticket_id.encode()) % SHARDS


def recount(states: Iterable[Mapping[str, Any]]) -> dict[Membership, int]:
    """What every folder's count must be for these tickets: the check (and the repair) of the counters."""
    counted: Counter[Membership] = Counter()
    for state in states:
        counted.update(memberships(state))
    return dict(counted)


def folder_view(counts: Mapping[str, int], agent_id: str | None) -> dict[str, Any]:
    """One team's counts as the console shows them: per status, per channel, the work folders and "mine"."""
    status = {name: 0 for name in STATUS_FOLDERS}
    channel: dict[str, int] = {}
    work = {name: 0 for name in WORK_FOLDERS}
    for key, count in counts.items():
        kind, _, name = key.partition("#")
        if kind == "status":
            status[name] = status.get(name, 0) + count
        elif kind == "channel" and count:
            channel[name] = count
        elif kind == "work":
            work[name] = work.get(name, 0) + count
    work["mine"] = counts.get(f"assignee#{agent_id}", 0) if agent_id else 0
    return {"status": status, "channel": dict(sorted(channel.items())), "work": work}
