"""The customer's ticket portal: signed, expiring links with no login, and what such a link may show.

A link is `<public url>/#/portal/<ticket id>/<token>`: the token is a JWT (HS256, a key of its own derived from
the stack's signing secret) naming the ticket, for the audience `portal`, with an expiry. It sits in the URL's
fragment, which browsers never send to a server; the portal page sends it in the `X-Portal-Token` header. A
token for another ticket, altered by one character, or past its expiry is refused, and nothing else (no ref, no
address) opens a ticket.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from shared.domain.access import Forbidden, Unauthorized

AUDIENCE = "portal"
PUBLIC_KINDS = ("customer", "agent", "automatic")  # never internal notes
FOOTER = {
    "en": ("Follow your request, add to it or reply online: {url}", "How did we do? Rate our help (1-5): {url}"),
    "id": ("Pantau permintaan Anda, tambahkan info, atau balas secara online: {url}",
           "Bagaimana layanan kami? Beri penilaian (1-5): {url}"),  # fmt: skip
}


def portal_token(key: bytes, ticket_id: str, now: datetime, days: int) -> str:
    import jwt

    claims = {"sub": ticket_id, "aud": AUDIENCE, "iat": int(now.timestamp()), "exp": int((now + timedelta(days=days)).timestamp())}
    return jwt.encode(claims, key, algorithm="HS256")


def portal_url(base: str, ticket_id: str, token: str, rate: bool = False) -> str:
    return f"{base}/#/portal/{ticket_id}/{token}" + ("/rate" if rate else "")


def verify_portal_token(key: bytes, token: str | None, ticket_id: str, now: datetime) -> None:
    """Unauthorized for a missing, altered or expired token; Forbidden for a good token of another ticket."""
    import jwt

    if not token:
        raise Unauthorized("this page needs the link from one of our messages (X-Portal-Token is missing)")
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], audience=AUDIENCE, leeway=0,
                            options={"require": ["exp", "sub", "aud"], "verify_iat": False},
                            )  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise Unauthorized("this link has expired: open the link in our latest message about your request") from None
    except jwt.PyJWTError:
        raise Unauthorized("this link is not valid: open the link in one of our messages about your request") from None
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthorized("this link has expired: open the link in our latest message about your request")
    if claims.get("sub") != ticket_id:
        raise Forbidden("this link is for another request")


def public_messages(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """The thread as the customer may see it: their messages and our public answers, oldest first."""
    out = []
    for m in messages:
        if m.kind not in PUBLIC_KINDS or m.suppressed:
            continue
        who = "you" if m.direction == "inbound" else ("support" if m.kind == "agent" else "automatic")
        name = (m.author or {}).get("name") if m.kind == "agent" else None
        out.append({"id": m.message_id, "at": m.at, "from": who, "name": name, "channel": m.channel,
                    "subject": m.subject, "body": m.body_full or m.body or ""})  # fmt: skip
    return out


def footer(language: str, url: str, rate_url: str | None) -> str:
    """The portal line every customer message ends with (the rating line on a resolution notice)."""
    follow, rate = FOOTER.get(language, FOOTER["en"])
    lines = [follow.format(url=url)]
    if rate_url:
        lines.insert(0, rate.format(url=rate_url))
    return "\n".join(lines)
