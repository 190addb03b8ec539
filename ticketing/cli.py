"""The operator CLI: `ticketing run | token | quarantine list | outbox | webhook | reset`.

Nothing from `shared` or `functions` is imported at module level: table names and the secret name are read at
import time, so each command first points the environment at the running local stack (or at the endpoint the
caller already set) and only then imports them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

ROLES = ("agent", "supervisor", "admin")
DEFAULT_TOKEN_TTL_SECONDS = 8 * 3600


def _use_stack() -> None:
    from ticketing.local.stack_state import NoRunningStack, use_running_stack

    try:
        use_running_stack()
    except NoRunningStack as exc:
        raise SystemExit(f"ticketing: {exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from ticketing.local.stack import run

    return run()


def cmd_token(args: argparse.Namespace) -> int:
    """Print a bearer token signed with the running stack's key, so the API accepts it."""
    if args.ttl <= 0:
        raise SystemExit("ticketing token: --ttl must be a positive number of seconds")
    _use_stack()
    from shared.adapters.secrets import signing_key
    from shared.auth import issue_token
    from shared.domain.access import DEFAULT_TEAM
    from shared.domain.errors import DomainError
    from shared.settings import get_settings

    settings = get_settings()
    try:
        teams = tuple(args.team or [DEFAULT_TEAM])
        print(issue_token(signing_key(settings), args.role, args.agent, args.ttl, settings.max_token_ttl_seconds, teams))
    except DomainError as exc:
        raise SystemExit(f"ticketing token: {exc.message} (MAX_TOKEN_TTL_SECONDS sets the limit)") from None
    return 0


_QUARANTINE_COLUMNS = ("id", "received_at", "reason", "raw_key", "sender", "subject")


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str], max_width: int = 48) -> str:
    def cell(value: Any) -> str:
        text = "" if value is None else str(value).replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column), *(len(r[i]) for r in cells)]) for i, column in enumerate(columns)]
    lines = ["  ".join(column.upper().ljust(widths[i]) for i, column in enumerate(columns)).rstrip()]
    lines += ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip() for row in cells]
    return "\n".join(lines)


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    """Inbound items that did not become tickets, newest first: what an operator reviews."""
    _use_stack()
    from shared.domain.errors import DomainError
    from shared.storage.quarantine import list_quarantine

    try:
        items, next_cursor = list_quarantine(args.limit, args.cursor)
    except DomainError as exc:
        raise SystemExit(f"ticketing quarantine list: {exc.message}") from None
    if args.json:
        print(json.dumps({"items": items, "next_cursor": next_cursor}, indent=2, default=str))
        return 0
    if not items:
        print("Quarantine is empty.")
        return 0
    print(_table(items, _QUARANTINE_COLUMNS))
    if next_cursor:
        print(f"\nMore: ticketing quarantine list --limit {args.limit} --cursor {next_cursor}")
    return 0


def cmd_folders_repair(args: argparse.Namespace) -> int:
    """Recount the folders from the tickets and correct every counter that drifted (and give tickets stored
    before the polling and escalation indexes their index attributes)."""
    _use_stack()
    from shared.storage.folders import FolderCountRepository
    from shared.storage.tickets import TicketRepository

    backfilled = TicketRepository().backfill_index_attributes()
    corrections = FolderCountRepository().repair()
    for (team, folder), delta in sorted(corrections.items()):
        print(f"{team:<16} {folder:<32} {delta:+d}")
    print(f"{len(corrections)} counter(s) corrected; {backfilled} ticket(s) given their index attributes")
    return 0


def cmd_kpi_rebuild(args: argparse.Namespace) -> int:
    """Recompute every ticket's KPI contribution and correct the aggregates to match (after a restore, or when
    the aggregate DLQ alarms)."""
    _use_stack()
    from shared.services.kpis import KpiAggregator
    from shared.storage.kpi import KpiRepository
    from shared.storage.tickets import TicketRepository

    done = KpiAggregator(KpiRepository()).rebuild(TicketRepository().every_ticket())
    print(f"{done['tickets']} ticket(s) recounted; {done['corrected']} counter(s) corrected")
    return 0


def cmd_demo_week(args: argparse.Namespace) -> int:
    """Two weeks of made-up history (tagged demo) and a team over capacity, for the KPI dashboard."""
    _use_stack()
    from shared.domain.model import AgentProfile
    from shared.domain.timefmt import utcnow
    from shared.services.demo_week import AGENTS, demo_tickets
    from shared.storage.agents import AgentRepository
    from shared.storage.folders import FolderCountRepository
    from shared.storage.tickets import TicketRepository

    now, agents = utcnow(), AgentRepository()
    for agent in AGENTS:
        agents.save(AgentProfile(id=agent.id, name=agent.name, team=args.team, presence="online", capacity=agent.capacity), now)
    written = TicketRepository().import_tickets(demo_tickets(now, args.team))
    holding = {agent.id: agent.holding for agent in AGENTS}
    for item in agents.load_items(args.team):
        if item.agent_id in holding:
            agents.set_load(item, holding[item.agent_id])
    FolderCountRepository().repair()
    print(f"{written} demo ticket(s) over the last 14 days in team {args.team}; agents {', '.join(holding)} online "
          f"(budi over capacity). The KPIs count them within seconds: open the console's Dashboard.")
    return 0


def cmd_kb_rebuild(args: argparse.Namespace) -> int:
    """Rebuild the knowledge base's search index from the published articles."""
    _use_stack()
    from shared.services.wiring import build_knowledge_base

    pointer = build_knowledge_base().rebuild("cli:kb-rebuild")
    print(f"index {pointer['version']}: {pointer['articles']} published article(s)")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    """The mail the running stack has sent (acknowledgements, replies, notices), oldest first."""
    if args.channel:
        return _channel_outbox(args)
    from email import policy
    from email.parser import BytesParser
    from pathlib import Path

    from ticketing.local.persistence import OUTBOX_DIR
    from ticketing.local.stack_state import read_state, state_file

    state = read_state()
    # The folder outlives the stack (kept across restarts), so it is readable while no stack runs too.
    folder = Path(state["outbox"]) if state and "outbox" in state else state_file().parent / OUTBOX_DIR
    if not folder.is_dir():
        raise SystemExit(f"ticketing outbox: no mail sent yet ({folder} does not exist; start the stack with `make run`)")
    files = sorted(folder.glob("*.eml"))
    mails = []
    for path in files:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if args.to and args.to.lower() not in str(message["To"]).lower():
            continue
        body = message.get_body(("plain",))
        mails.append(
            {
                "file": str(path),
                "date": str(message["Date"]),
                "to": str(message["To"]),
                "subject": str(message["Subject"]),
                "reply_to": str(message["Reply-To"]),
                "auto_submitted": message["Auto-Submitted"],
                "text": body.get_content() if body is not None else "",
            }
        )
    if args.json:
        print(json.dumps({"items": mails}, indent=2))
    elif not mails:
        print("No mail sent yet.")
    else:
        print(_table(mails, ("date", "to", "subject")))
    return 0


def _channel_outbox(args: argparse.Namespace) -> int:
    """What the recording fake of a platform's send API received (ticketing/local/channel_fakes.py)."""
    from pathlib import Path

    from ticketing.local.persistence import CHANNELS_DIR
    from ticketing.local.stack_state import read_state, state_file

    state = read_state()
    root = Path(state["channels"]) if state and "channels" in state else state_file().parent / CHANNELS_DIR
    records = [json.loads(path.read_text()) for path in sorted((root / args.channel).glob("*.json"))]
    if args.to:
        records = [r for r in records if args.to.lstrip("+") in json.dumps(r["request"])]
    if args.json:
        print(json.dumps({"items": records}, indent=2, ensure_ascii=False))
    elif not records:
        print(f"Nothing sent on {args.channel} yet.")
    else:
        rows = [{"at": r["at"], "status": r["status"], "to": _recipient(r["request"]), "text": _sent_text(r["request"])} for r in records]
        print(_table(rows, ("at", "status", "to", "text")))
    return 0


def _recipient(request: dict[str, Any]) -> str:
    return str(request.get("to") or request.get("chat_id") or (request.get("recipient") or {}).get("id") or "")


def _sent_text(request: dict[str, Any]) -> str:
    if "template" in request:
        return f"(template {request['template'].get('name')})"
    text = request.get("text")
    if isinstance(text, dict):
        return str(text.get("body", ""))
    return str(text or (request.get("message") or {}).get("text") or "")


def cmd_webhook(args: argparse.Namespace) -> int:
    """Build the platform's own payload, sign it with the running stack's channel secret, POST it, print the answer."""
    _use_stack()
    from ticketing.local.dev_webhooks import post_signed, sample_payload
    from ticketing.local.stack_state import read_state

    state = read_state() or {}
    sender = args.sender or {"whatsapp": "+628123456789", "telegram": "512345678", "phone": "+62215550123"}.get(args.webhook, "visitor-1")
    payload = sample_payload(args.webhook, sender, args.name, args.text, args.id)
    status, body = post_signed(str(state.get("api_url", "http://127.0.0.1:8000")), args.webhook, payload, forge=args.forge)
    print(json.dumps({"status": status, "body": body}, indent=2, ensure_ascii=False))
    return 0 if status < 400 else 1


def cmd_reset(args: argparse.Namespace) -> int:
    """Clear what the local stack keeps between runs (tickets, agents, configuration, mail, queued messages, the
    signing key, the outbox); refused while a stack runs from the folder."""
    from ticketing.local.persistence import DataFolder, DataFolderInUse
    from ticketing.local.stack_state import state_file

    folder = DataFolder(state_file().parent)
    try:
        removed = folder.reset()
    except DataFolderInUse as exc:
        raise SystemExit(f"ticketing reset: refused: {exc}") from None
    if not removed:
        print(f"Nothing to clear in {folder.root}.")
        return 0
    print(f"Cleared the local stack's data in {folder.root}: " + ", ".join(path.name for path in removed))
    print("The next `make run` starts empty, with a new signing key (earlier tokens and reply addresses stop working).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticketing", description="Customer-support ticketing: the local stack and operator commands."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="start the local stack (API, SMTP intake, AWS emulator, queue pollers) in the foreground",
        description="Ports: TICKETING_API_PORT (8000), TICKETING_SMTP_PORT (2525), TICKETING_AWS_PORT (4566).",
    )
    run.set_defaults(func=cmd_run)

    token = commands.add_parser("token", help="print a bearer token the running local stack accepts")
    token.add_argument("--role", choices=ROLES, required=True)
    token.add_argument("--agent", metavar="ID", default=None, help="agent id the token acts as")
    token.add_argument("--ttl", metavar="SECONDS", type=int, default=DEFAULT_TOKEN_TTL_SECONDS)
    token.add_argument("--team", metavar="TEAM", action="append", default=None,
                       help="a team the token works in (repeat for a supervisor of several; default support); "
                       "admins work in every team")  # fmt: skip
    token.set_defaults(func=cmd_token)

    quarantine = commands.add_parser("quarantine", help="inbound items that did not become tickets")
    quarantine_commands = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="COMMAND")
    listing = quarantine_commands.add_parser("list", help="list quarantined items, newest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--cursor", default=None, help="continue from a previous page")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=cmd_quarantine_list)

    folders = commands.add_parser("folders", help="the folder counters of the running local stack")
    folder_commands = folders.add_subparsers(dest="folders_command", required=True, metavar="COMMAND")
    folder_commands.add_parser("repair", help="recount the folders from the tickets and correct drifted counters"
                               ).set_defaults(func=cmd_folders_repair)  # fmt: skip

    deployed = "use the tables and bucket the environment names (TICKETS_TABLE, KPI_TABLE, CONFIG_TABLE, MAIL_BUCKET: " \
               "a deployed stack's outputs) instead of the running local stack"  # fmt: skip
    kpi = commands.add_parser("kpi", help="the KPI aggregates of the running local stack")
    kpi_rebuild = kpi.add_subparsers(dest="kpi_command", required=True, metavar="COMMAND").add_parser(
        "rebuild", help="recount every ticket's KPI contribution and correct the aggregates")  # fmt: skip
    kpi_rebuild.add_argument("--environment", action="store_true", help=deployed)
    kpi_rebuild.set_defaults(func=cmd_kpi_rebuild)
    demo = commands.add_parser("demo-week", help="write two weeks of demo tickets for the KPI dashboard")
    demo.add_argument("--team", default="support", help="the team they belong to (default support)")
    demo.set_defaults(func=cmd_demo_week)
    kb = commands.add_parser("kb", help="the knowledge base of the running local stack")
    kb_rebuild = kb.add_subparsers(dest="kb_command", required=True, metavar="COMMAND").add_parser(
        "rebuild", help="rebuild the search index from the published articles")
    kb_rebuild.add_argument("--environment", action="store_true", help=deployed)
    kb_rebuild.set_defaults(func=cmd_kb_rebuild)

    outbox = commands.add_parser("outbox", help="mail the running local stack has sent, oldest first")
    outbox.add_argument("--to", metavar="ADDRESS", default=None, help="only mail to this address")
    outbox.add_argument("--json", action="store_true", help="print JSON (with each mail's text) instead of a table")
    outbox.add_argument("--channel", choices=("whatsapp", "messenger", "instagram", "telegram"), default=None,
                        help="what the recording fake of that platform's send API received, instead of mail")  # fmt: skip
    outbox.set_defaults(func=cmd_outbox)

    from ticketing.local.dev_webhooks import WEBHOOKS

    webhook = commands.add_parser("webhook", help="send a signed platform webhook to the running local stack")
    webhook.add_argument("webhook", choices=WEBHOOKS)
    webhook.add_argument("text", help="what the customer writes")
    webhook.add_argument("--from", dest="sender", metavar="HANDLE", default=None,
                         help="phone number (WhatsApp, phone), chat id (Telegram), PSID (Messenger) or visitor id")  # fmt: skip
    webhook.add_argument("--name", default=None, help="the profile name the platform shows")
    webhook.add_argument("--id", default=None, help="the platform message id (repeat one to see a replay deduped)")
    webhook.add_argument("--forge", action="store_true", help="spoil the signature (to see the 401)")
    webhook.set_defaults(func=cmd_webhook)

    reset = commands.add_parser(
        "reset",
        help="clear the local stack's data (.local/: tables, mail, queues, secrets, outbox, channel sends); not while it runs",
        description="The local stack keeps its data across restarts; this clears it on purpose. TICKETING_STATE_FILE "
        "picks another data folder (the one that holds that state file).",
    )
    reset.set_defaults(func=cmd_reset)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
