"""Customer-facing message templates: the words customers read in acknowledgements and status notices (R11, R12).

Support leads edit templates, so a template is untrusted text: it is rendered in Jinja2's sandbox, may use only
the declared placeholders, and is checked when it is saved, so a broken one is refused in the editor instead of
failing (or going out half-rendered) at three in the morning. HTML bodies are autoescaped because placeholder
values such as the subject are written by customers.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from typing import TYPE_CHECKING

from shared.domain.errors import ValidationFailed

if TYPE_CHECKING:  # Jinja2 itself is imported on the first compile: most invocations send no template
    from jinja2 import Environment, Template, nodes

__all__ = [
    "DEFAULT_TEMPLATES",
    "PLACEHOLDERS",
    "MessageTemplate",
    "RenderedMessage",
    "TemplateInvalid",
    "choose_template",
    "render_template",
    "template_from_document",
    "template_to_document",
    "validate_template",
]

PLACEHOLDERS: Mapping[str, str] = {
    "customer_name": "The customer's display name; may be empty when we do not know it.",
    "ref": "The ticket reference, e.g. T-7K2M9Q. Keep it in email subjects so replies thread.",
    "subject": "The customer's own words for the problem (the ticket subject).",
    "eta_first_response": "Expected wait for a first human reply, in words, e.g. 'about 15 minutes'.",
    "eta_resolution": "Expected time to resolution, in words, e.g. 'about 1 day'.",
    "queue_position": "How many tickets are ahead in the queue, counting this one; 0 when not queued.",
    "agent_name": "The agent handling the ticket; may be empty.",
    "suggested_articles": "Knowledge-base articles that may help: a list of {title, url}; may be empty.",
    "support_address": "The support mailbox customers write to.",
    "channel": "The channel the customer used: email, chat, whatsapp, ...",
    "merged_into_ref": "The ticket this one was merged into (its reference); empty unless it was merged.",
    "portal_url": "The customer's own link to follow, add to and reply on this ticket (signed, expires); every "
    "message ends with it unless the template places it.",
    "csat_url": "The same link's rating page (1-5 and a comment), answerable once the ticket is resolved.",
}

ANY_CHANNEL = "*"


class TemplateInvalid(ValidationFailed):
    """A template that cannot be saved or rendered; the message says where and why."""

    code = "template_invalid"


@dataclass(frozen=True)
class MessageTemplate:
    """One wording of one message, for one language and one channel ("*" for any channel)."""

    id: str
    language: str
    channel: str
    subject: str | None
    text: str
    html: str | None = None
    whatsapp_template: str | None = None  # approved template sent outside WhatsApp's 24-hour window


@dataclass(frozen=True)
class RenderedMessage:
    """What goes out: the subject is one line, whatever the customer typed into theirs."""

    subject: str | None
    text: str
    html: str | None


# --- the sandbox ----------------------------------------------------------------------------------

# A template author must not be able to make a Lambda build a gigabyte string.
_MAX_REPEAT = 10_000
_MAX_EXPONENT = 100


def _blank_for_none(value: Any) -> Any:
    """An optional value left as None (no agent yet) prints as nothing rather than the word "None"."""
    return "" if value is None else value


@functools.lru_cache(maxsize=1)
def _environments() -> tuple[Environment, Environment]:
    """(text, html) sandboxes: Jinja's sandbox (no private attributes, no mutating the context) plus limits on
    `*` and `**`; html escapes what it inserts."""
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class MessageSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
            if operator_name == "**":
                if isinstance(right, (int, float)) and abs(right) > _MAX_EXPONENT:
                    raise SecurityError(f"exponent {right} is too large for a message template")
                return operator.pow(left, right)
            for count, other in ((right, left), (left, right)):
                if isinstance(other, (str, list, tuple)) and isinstance(count, int) and count * len(other) > _MAX_REPEAT:
                    raise SecurityError("repeating text that many times is not allowed in a message template")
            return operator.mul(left, right)

    options: dict[str, Any] = {
        "undefined": StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
        "finalize": _blank_for_none,
    }
    return MessageSandbox(autoescape=False, **options), MessageSandbox(autoescape=True, **options)


# --- validation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledSource:
    template: Template
    placeholders: frozenset[str]


@dataclass(frozen=True)
class _Compiled:
    subject: Template | None
    text: Template
    html: Template | None
    placeholders: frozenset[str]


def validate_template(template: MessageTemplate) -> None:
    """Raise TemplateInvalid for anything that would make the template fail or misbehave when sent."""
    from shared.contracts.config import TemplateDocument  # pydantic on the first check, not at cold start
    from shared.contracts.refusals import validated

    validated(TemplateDocument, _fields(template), "template", kind=TemplateInvalid)


@functools.lru_cache(maxsize=512)
def compiled_source(source: str, *, html: bool = False) -> CompiledSource:
    """One part of a template compiled in the sandbox, with the placeholders it uses. ValueError says why it
    cannot be sent: a syntax error, a placeholder nobody fills in, or reaching into Python's internals."""
    from jinja2 import TemplateSyntaxError, meta
    from jinja2.exceptions import TemplateError

    env = _environments()[1 if html else 0]
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise ValueError(f"line {exc.lineno}: {exc.message}") from exc
    used = meta.find_undeclared_variables(tree)
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(f"unknown placeholder(s) {', '.join(unknown)}; allowed are {', '.join(sorted(PLACEHOLDERS))}")
    private = _private_attribute(tree)
    if private is not None:
        raise ValueError(f"line {private[1]}: access to {private[0]!r} is not allowed")
    try:
        return CompiledSource(env.from_string(tree), frozenset(used))
    except TemplateError as exc:  # compile-time errors the parser does not catch
        raise ValueError(str(exc)) from exc


@functools.lru_cache(maxsize=256)
def _compile(template: MessageTemplate) -> _Compiled:
    """Checked and compiled once per distinct template; rendering the same acknowledgement again is cheap."""
    validate_template(template)
    subject, text, html = (
        compiled_source(source, html=part == "html") if source is not None else None
        for part, source in (("subject", template.subject), ("text", template.text), ("html", template.html))
    )
    assert text is not None  # validated: a template always has a text body
    used = frozenset().union(*(part.placeholders for part in (subject, text, html) if part is not None))
    return _Compiled(
        subject=subject.template if subject else None,
        text=text.template,
        html=html.template if html else None,
        placeholders=used,
    )


def _private_attribute(tree: nodes.Template) -> tuple[str, int] | None:
    """Refuse `x.__class__` and `x['_y']` when saved; the sandbox would refuse them only when sending."""
    from jinja2 import nodes

    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name: object = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        if isinstance(name, str) and name.startswith("_"):
            return name, node.lineno
    return None


# --- rendering ------------------------------------------------------------------------------------


def render_template(template: MessageTemplate, context: Mapping[str, Any]) -> RenderedMessage:
    """Fill in the placeholders. Every placeholder the template uses must be in ``context`` (None prints empty).

    Extra context values are ignored, so callers can pass one full context to any template.
    """
    compiled = _compile(template)
    missing = sorted(compiled.placeholders - set(context))
    if missing:
        raise TemplateInvalid(f"template {template.id!r}: no value for placeholder(s) {', '.join(missing)}")
    values = dict(context)
    subject = _render_part(template, "subject", compiled.subject, values)
    text = _render_part(template, "text", compiled.text, values)
    assert text is not None
    return RenderedMessage(
        subject=" ".join(subject.split()) if subject is not None else None,
        text=text,
        html=_render_part(template, "html", compiled.html, values),
    )


def _render_part(
    template: MessageTemplate, part: str, compiled: Template | None, values: dict[str, Any]
) -> str | None:
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    if compiled is None:
        return None
    try:
        return compiled.render(values)
    except (UndefinedError, SecurityError) as exc:
        raise TemplateInvalid(f"template {template.id!r} {part}: {exc}") from exc


# --- choosing -------------------------------------------------------------------------------------


def choose_template(
    templates: Iterable[MessageTemplate],
    template_id: str,
    language: str,
    channel: str,
    fallback_language: str = "en",
) -> MessageTemplate:
    """The best wording for this customer: their language on their channel, then any channel, then the fallback.

    Among equally good matches the first wins, so list a tenant's own templates before DEFAULT_TEMPLATES.
    """
    lang, fallback, chan = _primary(language), _primary(fallback_language), channel.strip().lower()
    preferences = [(lang, chan), (lang, ANY_CHANNEL), (fallback, chan), (fallback, ANY_CHANNEL)]
    best: dict[tuple[str, str], MessageTemplate] = {}
    for template in templates:
        if template.id == template_id:
            best.setdefault((template.language, template.channel), template)
    for key in preferences:
        if key in best:
            return best[key]
    raise LookupError(
        f"no template {template_id!r} for language {lang!r} or {fallback!r} on channel {chan!r} or '*'"
    )


def _primary(language: str) -> str:
    """'id-ID' -> 'id': templates are kept per language, not per region."""
    return language.strip().lower().replace("_", "-").split("-")[0]


# --- storage --------------------------------------------------------------------------------------

_FIELDS = tuple(f.name for f in fields(MessageTemplate))


def _fields(template: MessageTemplate) -> dict[str, str | None]:
    return {name: getattr(template, name) for name in _FIELDS}


def template_to_document(template: MessageTemplate) -> dict[str, str | None]:
    """The stored form; validated first, so a bad template is never saved."""
    validate_template(template)
    return _fields(template)


def template_from_document(document: Mapping[str, Any]) -> MessageTemplate:
    """A template from its stored (or submitted) form, with an error that names what is wrong."""
    from shared.contracts.config import TemplateDocument  # pydantic on the first parse, not at cold start
    from shared.contracts.refusals import validated

    return MessageTemplate(**validated(TemplateDocument, document, "template", kind=TemplateInvalid).model_dump())


# --- the wording we ship --------------------------------------------------------------------------

_ACK_EMAIL_TEXT_EN = """\
Hi{% if customer_name %} {{ customer_name }}{% endif %},

Thank you for getting in touch about "{{ subject }}". We have received your message and \
logged it as ticket {{ ref }}, so nothing gets lost, and we will help you get it sorted.

What happens next:
- First reply from our team: {{ eta_first_response }}
- Expected resolution: {{ eta_resolution }}
{% if queue_position %}
- Your place in the queue: {{ queue_position }}
{% endif %}

You don't need to do anything else right now; we will keep you updated. \
If you have more details or screenshots, just reply to this email and they will be added to your ticket.
{% if suggested_articles %}

While you wait, these articles may already help:
{% for article in suggested_articles %}
- {{ article.title }}: {{ article.url }}
{% endfor %}
{% endif %}

Kind regards,
The Support Team
"""

_ACK_EMAIL_TEXT_ID = """\
Halo{% if customer_name %} {{ customer_name }}{% endif %},

Terima kasih sudah menghubungi kami mengenai "{{ subject }}". Pesan Anda sudah kami terima \
dan tercatat sebagai tiket {{ ref }}, jadi tidak akan terlewat, dan kami akan membantu sampai tuntas.

Langkah selanjutnya:
- Balasan pertama dari tim kami: {{ eta_first_response }}
- Perkiraan penyelesaian: {{ eta_resolution }}
{% if queue_position %}
- Posisi Anda dalam antrean: {{ queue_position }}
{% endif %}

Untuk saat ini Anda tidak perlu melakukan apa-apa; kami akan terus mengabari Anda. \
Jika ada informasi tambahan atau tangkapan layar, cukup balas email ini dan semuanya akan masuk ke tiket Anda.
{% if suggested_articles %}

Sambil menunggu, artikel berikut mungkin sudah bisa membantu:
{% for article in suggested_articles %}
- {{ article.title }}: {{ article.url }}
{% endfor %}
{% endif %}

Salam hangat,
Tim Dukungan Pelanggan
"""

_ACK_EMAIL_HTML = """\
<!DOCTYPE html>
<html lang="{lang}">
<body style="font-family: Arial, sans-serif; font-size: 14px; line-height: 1.5; color: #222;">
<p>{greeting}{{% if customer_name %}} {{{{ customer_name }}}}{{% endif %}},</p>
<p>{intro}</p>
<p><strong>{next_steps}</strong></p>
<ul>
<li>{first_reply}: {{{{ eta_first_response }}}}</li>
<li>{resolution}: {{{{ eta_resolution }}}}</li>
{{% if queue_position %}}
<li>{queue}: {{{{ queue_position }}}}</li>
{{% endif %}}
</ul>
<p>{reassure}</p>
{{% if suggested_articles %}}
<p>{articles}</p>
<ul>
{{% for article in suggested_articles %}}
<li><a href="{{{{ article.url }}}}">{{{{ article.title }}}}</a></li>
{{% endfor %}}
</ul>
{{% endif %}}
<p>{closing}<br>{team}</p>
</body>
</html>
"""

_ACK_EMAIL_HTML_EN = _ACK_EMAIL_HTML.format(
    lang="en",
    greeting="Hi",
    intro=(
        "Thank you for getting in touch about &ldquo;{{ subject }}&rdquo;. We have received your message and "
        "logged it as ticket <strong>{{ ref }}</strong>, so nothing gets lost, and we will help you get it sorted."
    ),
    next_steps="What happens next:",
    first_reply="First reply from our team",
    resolution="Expected resolution",
    queue="Your place in the queue",
    reassure=(
        "You don&rsquo;t need to do anything else right now; we will keep you updated. "
        "If you have more details or screenshots, just reply to this email and they will be added to your ticket."
    ),
    articles="While you wait, these articles may already help:",
    closing="Kind regards,",
    team="The Support Team",
)

_ACK_EMAIL_HTML_ID = _ACK_EMAIL_HTML.format(
    lang="id",
    greeting="Halo",
    intro=(
        "Terima kasih sudah menghubungi kami mengenai &ldquo;{{ subject }}&rdquo;. Pesan Anda sudah kami terima "
        "dan tercatat sebagai tiket <strong>{{ ref }}</strong>, jadi tidak akan terlewat, dan kami akan membantu "
        "sampai tuntas."
    ),
    next_steps="Langkah selanjutnya:",
    first_reply="Balasan pertama dari tim kami",
    resolution="Perkiraan penyelesaian",
    queue="Posisi Anda dalam antrean",
    reassure=(
        "Untuk saat ini Anda tidak perlu melakukan apa-apa; kami akan terus mengabari Anda. "
        "Jika ada informasi tambahan atau tangkapan layar, cukup balas email ini dan semuanya akan masuk "
        "ke tiket Anda."
    ),
    articles="Sambil menunggu, artikel berikut mungkin sudah bisa membantu:",
    closing="Salam hangat,",
    team="Tim Dukungan Pelanggan",
)

_ACK_SUBJECT = "[{{ ref }}] {{ subject }}"

DEFAULT_TEMPLATES: tuple[MessageTemplate, ...] = (
    MessageTemplate(
        id="acknowledgement",
        language="en",
        channel="email",
        subject=_ACK_SUBJECT,
        text=_ACK_EMAIL_TEXT_EN,
        html=_ACK_EMAIL_HTML_EN,
    ),
    MessageTemplate(
        id="acknowledgement",
        language="id",
        channel="email",
        subject=_ACK_SUBJECT,
        text=_ACK_EMAIL_TEXT_ID,
        html=_ACK_EMAIL_HTML_ID,
    ),
    MessageTemplate(
        id="acknowledgement",
        language="en",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Hi{% if customer_name %} {{ customer_name }}{% endif %}, thanks for reaching out about "{{ subject }}". '
            "Your ticket is {{ ref }}"
            "{% if queue_position %} and you are number {{ queue_position }} in the queue{% endif %}. "
            "Expected first reply: {{ eta_first_response }}; expected resolution: {{ eta_resolution }}. "
            "We're on it!"
        ),
    ),
    MessageTemplate(
        id="acknowledgement",
        language="id",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            "Halo{% if customer_name %} {{ customer_name }}{% endif %}, terima kasih sudah menghubungi kami "
            'soal "{{ subject }}". Tiket Anda: {{ ref }}'
            "{% if queue_position %}, antrean ke-{{ queue_position }}{% endif %}. "
            "Perkiraan balasan pertama: {{ eta_first_response }}; perkiraan selesai: {{ eta_resolution }}. "
            "Kami segera bantu!"
        ),
    ),
    MessageTemplate(
        id="resolved",
        language="en",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Hi{% if customer_name %} {{ customer_name }}{% endif %}, good news: your request "{{ subject }}" '
            "({{ ref }}) has been resolved{% if agent_name %} by {{ agent_name }}{% endif %}. "
            "If anything is still not working, just reply and we will pick it up again right away. "
            "Thank you for your patience!"
        ),
    ),
    MessageTemplate(
        id="resolved",
        language="id",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Halo{% if customer_name %} {{ customer_name }}{% endif %}, kabar baik: permintaan Anda "{{ subject }}" '
            "({{ ref }}) sudah selesai ditangani{% if agent_name %} oleh {{ agent_name }}{% endif %}. "
            "Jika masih ada kendala, cukup balas pesan ini dan kami akan segera menindaklanjutinya lagi. "
            "Terima kasih atas kesabaran Anda!"
        ),
    ),
    MessageTemplate(
        id="delayed",
        language="en",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Hi{% if customer_name %} {{ customer_name }}{% endif %}, we are sorry: your request "{{ subject }}" '
            "({{ ref }}) is taking longer than usual. It has not been forgotten; "
            "{% if agent_name %}{{ agent_name }} is{% else %}our team is{% endif %} still working on it. "
            "{% if eta_first_response %}Expected first reply: {{ eta_first_response }}. {% endif %}"
            "New expected resolution: {{ eta_resolution }}. "
            "Thank you for your patience; we will update you as soon as there is news."
        ),
    ),
    MessageTemplate(
        id="delayed",
        language="id",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Halo{% if customer_name %} {{ customer_name }}{% endif %}, mohon maaf, permintaan Anda "{{ subject }}" '
            "({{ ref }}) membutuhkan waktu lebih lama dari biasanya. Permintaan Anda tidak terlupakan; "
            "{% if agent_name %}{{ agent_name }}{% else %}tim kami{% endif %} masih menanganinya. "
            "{% if eta_first_response %}Perkiraan balasan pertama: {{ eta_first_response }}. {% endif %}"
            "Perkiraan penyelesaian yang baru: {{ eta_resolution }}. "
            "Terima kasih atas kesabaran Anda; kami akan segera mengabari begitu ada perkembangan."
        ),
    ),
    MessageTemplate(
        id="merged",
        language="en",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Hi{% if customer_name %} {{ customer_name }}{% endif %}, your request "{{ subject }}" ({{ ref }}) is '
            "about the same thing as ticket {{ merged_into_ref }}, so we have brought them together: everything "
            "you sent is there, and we continue under {{ merged_into_ref }}. "
            "You can keep replying as before; your messages reach the same place."
        ),
    ),
    MessageTemplate(
        id="merged",
        language="id",
        channel=ANY_CHANNEL,
        subject=None,
        text=(
            'Halo{% if customer_name %} {{ customer_name }}{% endif %}, permintaan Anda "{{ subject }}" ({{ ref }}) '
            "membahas hal yang sama dengan tiket {{ merged_into_ref }}, jadi kami menggabungkannya: semua pesan "
            "Anda ada di sana, dan kami lanjutkan di {{ merged_into_ref }}. "
            "Anda tetap bisa membalas seperti biasa; pesan Anda akan sampai ke tempat yang sama."
        ),
    ),
)
