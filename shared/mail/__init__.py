"""Email in and out, pure: parsing real-world MIME (`parsing`, `body`), telling automated mail apart
(`automation`), threading hints and signed reply addresses (`threading`, `reply_address`), composing what we send
(`outbound`).

May import: the standard library, inscriptis, `shared.domain`.
"""
