"""Every message of the shared real-world corpus ends as a parsed mail or a quarantine reason, never a crash.

The corpus (fixtures of the Ruby ``mail`` library) lives beside the repository in ``../shared/corpus``;
a clone without it skips these tests with a reason instead of silently collecting nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.mail.parsing import Attachment, MailParseError, ParsedEmail, parse_email

pytestmark = pytest.mark.unit

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail-gem-fixtures"
MAILS = sorted(CORPUS.glob("**/*.eml")) if CORPUS.is_dir() else []
BOUNCES = [path for path in MAILS if path.parent.name == "multipart_report_emails"]

if not MAILS:
    pytest.skip(
        f"shared mail corpus not found at {CORPUS} (it sits beside the repository, not in it)",
        allow_module_level=True,
    )


def corpus_id(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


@pytest.mark.parametrize("path", MAILS, ids=corpus_id)
def test_every_corpus_mail_parses_or_is_quarantined_with_a_reason(path: Path):
    try:
        mail = parse_email(path.read_bytes())
    except MailParseError as exc:
        assert str(exc), "a quarantine needs a reason"
        return

    assert isinstance(mail, ParsedEmail)
    assert isinstance(mail.subject, str) and "\n" not in mail.subject
    assert isinstance(mail.text, str)
    assert isinstance(mail.display_text, str)
    assert bool(mail.display_text) == bool(mail.text)
    assert mail.html is None or isinstance(mail.html, str)
    assert all(isinstance(note, str) for note in mail.defects)
    for attachment in mail.attachments:
        assert isinstance(attachment, Attachment)
        assert attachment.size == len(attachment.content)
        assert attachment.filename and "/" not in attachment.filename and "\\" not in attachment.filename
        assert attachment.content_type == attachment.content_type.lower()
    for text in [mail.subject, mail.text, *(v for values in mail.headers.values() for v in values)]:
        text.encode("utf-8")  # no lone surrogates: everything can be stored as UTF-8
    if mail.date is not None:
        assert mail.date.tzinfo is not None
    for message_id in [mail.message_id, *mail.in_reply_to, *mail.references]:
        assert message_id is None or (message_id.startswith("<") and message_id.endswith(">"))


@pytest.mark.parametrize("path", BOUNCES, ids=corpus_id)
def test_corpus_bounces_are_recognised(path: Path):
    verdict = parse_email(path.read_bytes()).automation

    assert verdict.is_bounce
    assert verdict.is_automated
    assert "delivery-status-report" in verdict.reasons
    assert verdict.original_message_id is not None
