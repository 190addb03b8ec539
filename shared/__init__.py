"""The one package every function imports, split by role (each package's docstring says what it may import):

- `domain`: the rules, pure — the ticket and its state machine, priority, assignment, business calendar, SLA
  clock, escalation causes, ETA, templates — and the ports the services speak through;
- `services`: load, decide with the domain's rules, save — intake, routing, SLA and escalation, ticket changes,
  customer messages, alerts, the route stage, and `wiring` that builds them with the real adapters;
- `storage`: DynamoDB through pynamodb — the only code that knows how anything is stored;
- `adapters`: the other AWS services (S3, SQS, SES, EventBridge, Secrets Manager) and Lambda's batch utility;
- `mail`: MIME in and out (parsing, bodies, automation, threading hints, outbound composition);
- `contracts`: the typed documents crossing a boundary (API bodies, configuration, stage events);
- `settings`, `observability`, `auth`, `representation`: configuration, logs and metrics, bearer tokens, the
  API's resource shapes.
"""
