"""Typed contracts (pydantic v2): what crosses a boundary, checked where it enters.

- `config`: the documents a support lead edits through the API (priority rules, SLA policies, calendars, teams,
  templates, auto-replies), validated on save and parsed on read;
- `events`: the messages between stages (route events on the route queue, escalation timers);
- `api`: every HTTP request body and response, from which `/openapi.json` is generated.

`refusals` turns a pydantic ValidationError into the project's ValidationFailed ("ladder[1].tier: ...").

May import: pydantic, `shared.domain` (how time is written, vocabulary); `config` also the pure rule modules whose
documents it describes (their vocabulary and checks), which in turn import it only when they parse. Nothing here
touches AWS.
"""
