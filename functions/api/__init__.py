"""The agent API: `app` (Chalice, blueprints registered), `gateway` (the authorizer and the `operation` decorator
every route is declared with), `routes/` (one blueprint per area), `services` (its composition root), `openapi`
(`/openapi.json` from the contracts), `http` (the one error shape, bodies read defensively).

May import: everything in `shared`; nothing imports it.
"""
