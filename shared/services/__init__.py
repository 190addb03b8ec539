"""The services: each loads what it needs through the ports, decides with the domain's rules, and saves.

`intake` (one inbound message → a ticket, a message on one, or quarantine) with `email_intake` its email adapter;
`routing` (priority, then the team's queue drained onto free agents); `sla` (the SlaService: clocks, the ladder,
idle tickets, the customer's promise, the sweep); `ticket_changes` (what agents change); `customer_messages`
(acknowledgements, notices, auto-replies, agents' replies); `alerts` (mail to the team); `route_stage` (the
route queue's dispatcher); `wiring` (the services built with the real repositories and adapters). What the API
calls: `ticket_desk` (list, open, reply, change), `people` (the agents' roster, customers), `configuration`
(teams, priority rules, SLA policies, calendars, templates, auto-replies and the rules between them),
`quarantine_review`.

May import: `shared.domain`, `shared.contracts`, `shared.mail`, `shared.observability`, `shared.settings`;
`shared.storage` and `shared.adapters` only in `wiring` (tests/unit/test_layers.py checks it): every other
service gets its repositories and adapters through the ports of `shared.domain.ports`.
"""
