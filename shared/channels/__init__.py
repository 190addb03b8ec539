"""Channel webhooks in and out, pure: each platform's signature scheme and payload format, turned into plain data
(`shared/channels/inbound.py`) that the channel intake hands to the same IntakeService as email. Like
`shared/mail`, nothing here talks to AWS or storage."""
