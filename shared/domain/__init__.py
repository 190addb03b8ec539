"""The rules of the product, pure: what a ticket is and how it moves (`ticket`, `status`, `changes`), who should
take it (`priority`, `assignment`), when it is late (`business_calendar`, `sla_clock`, `escalation_causes`, `eta`),
what the customer is told (`templates`, `language`), the team's settings (`teams`), who may do what (`access`),
ids and refs (`ids`), and the ports
(`ports`) the services reach storage through.

May import: the standard library, pure libraries (jinja2, holidays), `shared.contracts`. Never AWS, storage, a
web framework or Powertools (tests/unit/test_layers.py checks this).
"""
