"""The words customers read: templates a support lead edits, checked when saved and rendered safely when sent."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from shared.domain.errors import ValidationFailed
from shared.domain.language import format_duration
from shared.domain.templates import (
    DEFAULT_TEMPLATES,
    PLACEHOLDERS,
    MessageTemplate,
    TemplateInvalid,
    choose_template,
    render_template,
    template_from_document,
    template_to_document,
    validate_template,
)

pytestmark = pytest.mark.unit


def context(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "customer_name": "Budi Santoso",
        "ref": "T-7K2M9Q",
        "subject": "Sistem macet, tidak bisa login sejak pagi",
        "eta_first_response": format_duration(15 * 60, "id"),
        "eta_resolution": format_duration(24 * 3600, "id"),
        "queue_position": 3,
        "agent_name": None,
        "suggested_articles": [],
        "support_address": "support@acme.example",
        "channel": "email",
    }
    values.update(overrides)
    return values


def template(**overrides: Any) -> MessageTemplate:
    fields: dict[str, Any] = {
        "id": "acknowledgement",
        "language": "en",
        "channel": "email",
        "subject": "[{{ ref }}] {{ subject }}",
        "text": "Hi {{ customer_name }}, we received {{ ref }}.",
        "html": None,
    }
    fields.update(overrides)
    return MessageTemplate(**fields)


def default(template_id: str, language: str, channel: str) -> MessageTemplate:
    return next(
        t for t in DEFAULT_TEMPLATES if (t.id, t.language, t.channel) == (template_id, language, channel)
    )


# --- the wording we ship ------------------------------------------------------------------------


def test_every_shipped_template_passes_the_same_check_a_lead_edit_does():
    for shipped in DEFAULT_TEMPLATES:
        validate_template(shipped)


def test_the_shipped_set_covers_every_message_in_both_languages():
    keys = {(t.id, t.language, t.channel) for t in DEFAULT_TEMPLATES}

    for language in ("id", "en"):
        assert ("acknowledgement", language, "email") in keys
        assert ("acknowledgement", language, "*") in keys
        assert ("resolved", language, "*") in keys
        assert ("delayed", language, "*") in keys
    assert len(keys) == len(DEFAULT_TEMPLATES), "no two shipped templates compete for the same slot"


def test_indonesian_email_acknowledgement_personalises_promises_times_and_invites_a_reply():
    articles = [{"title": "Cara reset sesi login", "url": "https://help.acme.example/reset-sesi"}]
    message = render_template(default("acknowledgement", "id", "email"), context(suggested_articles=articles))

    assert message.subject == "[T-7K2M9Q] Sistem macet, tidak bisa login sejak pagi"
    for part in (message.text, message.html):
        assert part is not None
        assert "Halo Budi Santoso," in part
        assert "T-7K2M9Q" in part
        assert "Sistem macet, tidak bisa login sejak pagi" in part
        assert "sekitar 15 menit" in part
        assert "sekitar 1 hari" in part
        assert "antrean: 3" in part
        assert "cukup balas email ini" in part
        assert "Cara reset sesi login" in part
    assert "- Cara reset sesi login: https://help.acme.example/reset-sesi" in message.text
    assert '<a href="https://help.acme.example/reset-sesi">Cara reset sesi login</a>' in (message.html or "")


def test_english_email_acknowledgement_leaves_out_queue_and_articles_when_there_are_none():
    message = render_template(
        default("acknowledgement", "en", "email"),
        context(
            customer_name="Jane Cooper",
            subject="Password reset link expired",
            eta_first_response=format_duration(2 * 3600, "en"),
            eta_resolution=format_duration(2 * 86400, "en"),
            queue_position=0,
            suggested_articles=[],
        ),
    )

    assert message.subject == "[T-7K2M9Q] Password reset link expired"
    assert message.text.startswith("Hi Jane Cooper,\n\nThank you for getting in touch about \"Password reset")
    assert "First reply from our team: about 2 hours" in message.text
    assert "Expected resolution: about 2 days" in message.text
    assert "just reply to this email" in message.text
    assert "queue" not in message.text
    assert "articles" not in message.text
    assert "\n\n\n" not in message.text, "conditional blocks must not leave holes in the letter"
    assert "queue" not in (message.html or "")
    assert "<ul>\n</ul>" not in (message.html or "")


def test_an_unknown_customer_name_still_reads_naturally():
    message = render_template(default("acknowledgement", "en", "*"), context(customer_name=None))

    assert message.text.startswith('Hi, thanks for reaching out about "Sistem macet')


def test_chat_acknowledgement_is_short_and_has_no_subject():
    message = render_template(default("acknowledgement", "id", "*"), context(channel="whatsapp"))

    assert message.subject is None
    assert message.html is None
    assert "\n" not in message.text
    assert len(message.text) < 400
    assert "T-7K2M9Q" in message.text and "antrean ke-3" in message.text


def test_resolved_notice_names_the_agent_and_the_problem():
    message = render_template(default("resolved", "en", "*"), context(agent_name="Sari", subject="Printer offline"))

    assert '"Printer offline" (T-7K2M9Q) has been resolved by Sari.' in message.text
    assert "just reply" in message.text


def test_delay_notice_apologises_and_gives_the_new_estimate():
    message = render_template(
        default("delayed", "id", "*"), context(eta_resolution=format_duration(6 * 3600, "id"))
    )

    assert "mohon maaf" in message.text
    assert "lebih lama dari biasanya" in message.text
    assert "tim kami masih menanganinya" in message.text
    assert "Perkiraan penyelesaian yang baru: sekitar 6 jam." in message.text


# --- refused when saved, so nothing goes out broken ----------------------------------------------


def test_a_misspelt_placeholder_is_named():
    with pytest.raises(TemplateInvalid) as refused:
        validate_template(template(text="Hi {{ cusomer_name }}, thanks."))

    assert "cusomer_name" in refused.value.message
    assert refused.value.code == "template_invalid"
    assert isinstance(refused.value, ValidationFailed)


def test_a_syntax_error_says_which_part_and_line():
    with pytest.raises(TemplateInvalid) as refused:
        validate_template(template(text="Hi {{ customer_name }},\n\n{% if queue_position %}\nYou are next.\n"))

    assert "text: line" in refused.value.message
    assert "endif" in refused.value.message


def test_a_syntax_error_in_the_html_body_is_found_too():
    with pytest.raises(TemplateInvalid, match="html: line 1"):
        validate_template(template(html="<p>{{ customer_name </p>"))


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_a_template_without_text_is_refused(text):
    with pytest.raises(TemplateInvalid, match="text: must be a non-empty string"):
        validate_template(template(text=text))


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"language": "Indonesian"}, "language"),
        ({"language": "ID"}, "language"),
        ({"language": "id-ID"}, "language"),
        ({"channel": "E-mail!"}, "channel"),
        ({"channel": ""}, "channel"),
        ({"id": ""}, "id: must be 1-64"),
        ({"subject": "Line one\nBcc: everyone@example.com"}, "single line"),
        ({"subject": "  "}, "subject: must be a single line with some text"),
        ({"html": ""}, "html: must be a non-empty string"),
    ],
)
def test_bad_language_channel_or_headers_are_refused(overrides, complaint):
    with pytest.raises(TemplateInvalid, match=complaint):
        validate_template(template(**overrides))


def test_any_lowercase_language_tag_and_the_any_channel_are_accepted():
    validate_template(template(language="ms", channel="*", subject=None))
    validate_template(template(language="jav", channel="whatsapp"))


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__ }}",
        "{{ ref.__class__.__mro__ }}",
        "{{ suggested_articles['__class__'] }}",
        "{% for a in suggested_articles %}{{ a._private }}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_reaching_into_python_when_saved(text):
    with pytest.raises(TemplateInvalid, match="not allowed"):
        validate_template(template(text=text))


def test_the_sandbox_also_refuses_private_attributes_reached_dynamically_when_rendering():
    sneaky = template(text="{{ ref|attr('__class__') }}")
    validate_template(sneaky)  # not visible statically

    with pytest.raises(TemplateInvalid):
        render_template(sneaky, context())


def test_a_template_cannot_build_a_huge_string():
    greedy = template(text="{{ customer_name * 100000000 }}")

    with pytest.raises(TemplateInvalid):
        render_template(greedy, context())


def test_a_template_cannot_change_the_values_it_is_given():
    articles = [{"title": "A", "url": "https://help.acme.example/a"}]
    meddling = template(text="{{ suggested_articles.append(1) }}")

    with pytest.raises(TemplateInvalid):
        render_template(meddling, context(suggested_articles=articles))
    assert articles == [{"title": "A", "url": "https://help.acme.example/a"}]


def test_every_placeholder_is_documented_for_the_editor():
    assert set(PLACEHOLDERS) == {
        "customer_name",
        "ref",
        "subject",
        "eta_first_response",
        "eta_resolution",
        "queue_position",
        "agent_name",
        "suggested_articles",
        "support_address",
        "channel",
        "merged_into_ref",
        "portal_url",
        "csat_url",
    }
    assert all(description.strip() for description in PLACEHOLDERS.values())


# --- rendering ----------------------------------------------------------------------------------


def test_a_customer_subject_with_markup_is_escaped_in_html_and_plain_in_text():
    hostile = 'Login <script>alert("x")</script> & "quotes"'
    message = render_template(default("acknowledgement", "en", "email"), context(subject=hostile))

    assert hostile in message.text
    assert message.subject == f"[T-7K2M9Q] {hostile}"
    assert "<script>" not in (message.html or "")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in (message.html or "")


def test_a_missing_placeholder_value_is_named_before_anything_is_sent():
    values = context()
    del values["eta_resolution"]
    del values["customer_name"]

    with pytest.raises(TemplateInvalid) as refused:
        render_template(default("acknowledgement", "en", "email"), values)

    assert "customer_name, eta_resolution" in refused.value.message


def test_a_missing_article_field_is_a_template_error_not_a_crash():
    with pytest.raises(TemplateInvalid, match="url"):
        render_template(
            default("acknowledgement", "en", "email"), context(suggested_articles=[{"title": "No link"}])
        )


def test_a_customer_subject_cannot_break_the_subject_line():
    message = render_template(template(), context(subject="Printer\r\nBcc: everyone@example.com"))

    assert message.subject == "[T-7K2M9Q] Printer Bcc: everyone@example.com"


def test_extra_context_values_are_ignored():
    message = render_template(template(), context(unrelated="x"))

    assert message.text == "Hi Budi Santoso, we received T-7K2M9Q."


# --- choosing the wording for a customer ---------------------------------------------------------


def test_choice_prefers_language_and_channel_then_any_channel_then_the_fallback_language():
    id_email = template(language="id", channel="email", text="id email")
    id_any = template(language="id", channel="*", subject=None, text="id any")
    en_chat = template(language="en", channel="chat", subject=None, text="en chat")
    en_any = template(language="en", channel="*", subject=None, text="en any")
    other = template(id="resolved", language="id", channel="chat", subject=None, text="other id")
    catalogue = [other, en_any, en_chat, id_any, id_email]

    assert choose_template(catalogue, "acknowledgement", "id", "email") is id_email
    assert choose_template(catalogue, "acknowledgement", "id", "chat") is id_any
    assert choose_template(catalogue, "acknowledgement", "ms", "chat") is en_chat
    assert choose_template(catalogue, "acknowledgement", "ms", "whatsapp") is en_any
    assert choose_template(catalogue, "acknowledgement", "ms", "whatsapp", fallback_language="id") is id_any


def test_choice_reads_regional_tags_and_lets_a_tenant_override_the_defaults():
    custom = template(language="id", channel="email", text="Halo dari PT Acme, {{ ref }}")

    assert choose_template([custom, *DEFAULT_TEMPLATES], "acknowledgement", "id-ID", "Email") is custom
    assert choose_template(DEFAULT_TEMPLATES, "acknowledgement", "id-ID", "email").language == "id"
    assert choose_template(DEFAULT_TEMPLATES, "delayed", "en", "email").channel == "*"


def test_choice_without_any_match_is_a_lookup_error():
    with pytest.raises(LookupError, match="survey"):
        choose_template(DEFAULT_TEMPLATES, "survey", "id", "email")


# --- storage ------------------------------------------------------------------------------------


def test_templates_round_trip_through_their_stored_form():
    for shipped in DEFAULT_TEMPLATES:
        assert template_from_document(template_to_document(shipped)) == shipped


def test_a_stored_form_may_leave_out_subject_and_html():
    loaded = template_from_document({"id": "resolved", "language": "en", "channel": "*", "text": "Done, {{ ref }}."})

    assert loaded.subject is None and loaded.html is None


def test_saving_a_bad_template_is_refused():
    with pytest.raises(TemplateInvalid, match="cusomer_name"):
        template_to_document(template(text="{{ cusomer_name }}"))


def test_a_stored_form_with_missing_or_unknown_fields_says_which():
    document = template_to_document(template())
    del document["text"]
    with pytest.raises(TemplateInvalid, match="text: is required"):
        template_from_document(document)

    document = {**template_to_document(template()), "body": "x", "lang": "en"}
    with pytest.raises(TemplateInvalid, match="unknown field.*body, lang"):
        template_from_document(document)


def test_a_stored_form_with_wrong_types_or_invalid_content_is_refused():
    with pytest.raises(TemplateInvalid, match="text: must be a string"):
        template_from_document({**template_to_document(template()), "text": 42})
    with pytest.raises(TemplateInvalid, match="html: must be a string"):
        template_from_document({**template_to_document(template()), "html": ["<p>"]})
    with pytest.raises(TemplateInvalid, match="must be an object"):
        template_from_document(["id", "en"])  # type: ignore[arg-type]
    with pytest.raises(TemplateInvalid, match="line 1"):
        template_from_document({**template_to_document(template()), "text": "{{ ref "})


def test_templates_are_values():
    shipped = DEFAULT_TEMPLATES[0]

    with pytest.raises(dataclasses.FrozenInstanceError):
        shipped.text = "changed"  # type: ignore[misc]
