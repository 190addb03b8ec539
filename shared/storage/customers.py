"""Customers, created on first contact. The id derives from the contact key, so two concurrent first mails
from one person converge on one customer."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import PutError
from pynamodb.expressions.update import Action

from shared.domain.ids import customer_id_for
from shared.domain.model import Contact, Customer
from shared.storage.models import CustomerModel
from shared.domain.timefmt import iso

__all__ = ["CustomerRepository", "customer_id_for", "to_customer"]


def to_customer(item: CustomerModel) -> Customer:
    return Customer(
        id=item.id,
        contact_key=item.contact_key,
        channel=item.channel,
        email=item.email,
        handle=item.handle,
        name=item.name,
        tier=item.tier or "standard",
        bouncing=bool(item.bouncing),
        bounced_at=item.bounced_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


class CustomerRepository:
    def _item(self, customer_id: str) -> CustomerModel | None:
        try:
            return CustomerModel.get(customer_id)
        except CustomerModel.DoesNotExist:
            return None

    def get(self, customer_id: str) -> Customer | None:
        item = self._item(customer_id)
        return to_customer(item) if item is not None else None

    def update(self, customer_id: str, now: datetime, tier: str | None = None, name: str | None = None) -> Customer:
        """Change what a support lead may change; only the fields given."""
        actions: list[Action] = [CustomerModel.updated_at.set(iso(now))]
        if tier is not None:
            actions.append(CustomerModel.tier.set(tier))
        if name is not None:
            actions.append(CustomerModel.name.set(name))
        item = CustomerModel(id=customer_id)
        item.update(actions=actions, condition=CustomerModel.id.exists())
        return to_customer(item)

    def get_or_create(self, contact: Contact, now: datetime) -> Customer:
        customer_id = customer_id_for(contact)
        existing = self._item(customer_id)
        if existing is not None:
            if contact.name and not existing.name:
                existing.update(actions=[CustomerModel.name.set(contact.name), CustomerModel.updated_at.set(iso(now))])
            return to_customer(existing)
        is_email = contact.channel.value == "email"
        customer = CustomerModel(
            id=customer_id,
            contact_key=contact.key,
            channel=contact.channel.value,
            email=contact.address.lower() if is_email else None,
            handle=None if is_email else contact.address,
            name=contact.name,
            tier="standard",
            created_at=iso(now),
            updated_at=iso(now),
        )
        try:
            customer.save(condition=CustomerModel.id.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return to_customer(CustomerModel.get(customer_id))
        return to_customer(customer)

    def mark_bouncing(self, contact: Contact, now: datetime) -> bool:
        """Flag a known customer's address as bouncing; unknown addresses are ignored. True if flagged."""
        customer = self._item(customer_id_for(contact))
        if customer is None:
            return False
        customer.update(
            actions=[
                CustomerModel.bouncing.set(True),
                CustomerModel.bounced_at.set(iso(now)),
                CustomerModel.updated_at.set(iso(now)),
            ]
        )
        return True
