"""The API's routes by area, one Chalice blueprint each: tickets, agents and customers, teams and rules, SLA
(policies and calendars), templates and auto-replies, quarantine, the agent's day (folders, escalations, saved views),
channel webhooks, self-service (knowledge base, help centre, portal) and KPIs. Each route validates with its contract
(shared/contracts/api.py), calls one service (functions/api/services.py builds them), and shapes the reply."""

from __future__ import annotations

from chalice.app import Blueprint

from functions.api.routes import agents, desk, quarantine, rules, selfservice, sla, templates, tickets, webhooks, work

BLUEPRINTS: tuple[Blueprint, ...] = (
    tickets.routes,
    work.routes,
    agents.routes,
    rules.routes,
    sla.routes,
    templates.routes,
    quarantine.routes,
    desk.routes,
    webhooks.routes,
    selfservice.routes,
)
