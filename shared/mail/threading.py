"""Which existing ticket an inbound mail belongs to — the evidence, strongest first.

1. a correctly signed reply address (support+<token>@domain) among the recipients;
2. a ticket ref in the subject (only trusted when the sender is that ticket's customer — checked by the caller);
3. In-Reply-To, then References newest first, matched against stored Message-IDs (ours included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from shared.domain.ids import find_ref
from shared.mail.reply_address import ref_from_address


@dataclass(frozen=True)
class ThreadHints:
    token_ref: str | None
    subject_ref: str | None
    message_ids: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.token_ref or self.subject_ref or self.message_ids)


def thread_hints(
    *,
    key: bytes,
    support_domain: str,
    recipients: Iterable[str],
    subject: str,
    in_reply_to: Iterable[str],
    references: Iterable[str],
) -> ThreadHints:
    token_ref = None
    for address in recipients:
        token_ref = ref_from_address(key, address, support_domain)
        if token_ref:
            break
    ordered: list[str] = []
    for mid in [*in_reply_to, *reversed(list(references))]:
        if mid and mid not in ordered:
            ordered.append(mid)
    return ThreadHints(token_ref=token_ref, subject_ref=find_ref(subject), message_ids=tuple(ordered[:20]))
