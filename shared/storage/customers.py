"""Customers, created on first contact. The id derives from the contact key, so two concurrent first mails
from one person converge on one customer."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pynamodb.exceptions import PutError

from shared.domain.model import Contact
from shared.storage.models import CustomerModel
from shared.timefmt import iso


def customer_id_for(contact: Contact) -> str:
    return "cus_" + hashlib.sha256(contact.key.encode()).hexdigest()[:20]


class CustomerRepository:
    def get(self, customer_id: str) -> CustomerModel | None:
        try:
            return CustomerModel.get(customer_id)
        except CustomerModel.DoesNotExist:
            return None

    def get_or_create(self, contact: Contact, now: datetime) -> CustomerModel:
        customer_id = customer_id_for(contact)
        existing = self.get(customer_id)
        if existing is not None:
            if contact.name and not existing.name:
                existing.update(actions=[CustomerModel.name.set(contact.name), CustomerModel.updated_at.set(iso(now))])
            return existing
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
            return CustomerModel.get(customer_id)
        return customer

    def mark_bouncing(self, contact: Contact, now: datetime) -> bool:
        """Flag a known customer's address as bouncing; unknown addresses are ignored. True if flagged."""
        customer = self.get(customer_id_for(contact))
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
