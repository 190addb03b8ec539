"""The folder counters in DynamoDB: the moves a ticket write adds to its own transaction, the one Query per team
that sums them, and the repair that recounts the tickets (through the listing index, never a Scan).

Each (team, folder) is SHARDS items `<folder>#<shard>`; a ticket's moves always go to the shard of its id, so
two agents working on different tickets of one busy folder seldom touch the same item.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Mapping

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.domain.folders import Membership, folder_moves, recount, shard_of
from shared.storage.models import LISTING, FolderCountModel, TicketModel


def add_moves(tx: TransactWrite, ticket_id: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
    """Add the counter moves of one ticket change (states as `Ticket.state()`) to the transaction writing it;
    pynamodb sends updates after puts, so these never shift the indexes callers read cancellation reasons by."""
    shard = shard_of(ticket_id)
    for (team, folder), delta in sorted(folder_moves(before, after).items()):
        tx.update(FolderCountModel(team=team, counter=f"{folder}#{shard}"), actions=_add(delta))


def moves_anything(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    return bool(folder_moves(before, after))


def _add(delta: int) -> list[Action]:
    return [FolderCountModel.n.add(delta), FolderCountModel.listing.set(LISTING)]


def _summed(items: Iterable[FolderCountModel]) -> dict[str, dict[str, int]]:
    """{team: {folder: count}} from counter items."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        folder = item.counter.rpartition("#")[0]
        counts[item.team][folder] += int(item.n or 0)
    return {team: dict(folders) for team, folders in counts.items()}


class FolderCountRepository:
    def __init__(self) -> None:
        self.reads = 0  # counter items read (what a folder read costs; the benchmark and tests report it)

    def counts(self, teams: Iterable[str] | None) -> dict[str, dict[str, int]]:
        """{team: {folder: count}}: one Query per team, or one over the all-teams index (teams=None)."""
        items = list(FolderCountModel.all_teams.query(LISTING)) if teams is None else [
            item for team in teams for item in FolderCountModel.query(team)
        ]
        self.reads += len(items)
        return _summed(items)

    def repair(self) -> dict[Membership, int]:
        """Recount every ticket and add each folder's difference to its shard 0, so the counters equal the
        recount (a maintenance step; changes committed while it runs are counted by their own moves).
        Returns the corrections made."""
        from shared.storage.tickets import to_ticket

        truth = recount(to_ticket(item).state() for item in TicketModel.all_by_created.query(LISTING))
        stored = {(team, folder): n for team, folders in self.counts(None).items() for folder, n in folders.items()}
        corrections = {key: truth.get(key, 0) - stored.get(key, 0) for key in {*truth, *stored}}
        corrections = {key: delta for key, delta in corrections.items() if delta}
        for (team, folder), delta in corrections.items():
            FolderCountModel(team=team, counter=f"{folder}#0").update(actions=_add(delta))
        return corrections
