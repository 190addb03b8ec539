"""A refused document in words a support lead can act on: each problem as `field.path[index]: what is wrong`.

Pydantic reports a failure as a list of located errors; `refusal` turns them into the project's `ValidationFailed`
(HTTP 400 at the edge), so the API answers `ladder[1].tier: only an escalate step moves the ticket to a tier`
rather than `Value error, ...` and a URL. Validators refuse with `refused` (a message for the value being
checked) or `refused_at` (a message for a field or list item below it, e.g. the second of two repeated steps).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from shared.domain.errors import ValidationFailed

Document = TypeVar("Document", bound=BaseModel)

MAX_PROBLEMS_SHOWN = 3
_SHOWN_CHARS = 60
_REFUSED = "refused"

_REQUIREMENTS: Mapping[str, str] = {
    "missing": "is required",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "too_short": "must list at least {min_length} {items}",
    "too_long": "must list at most {max_length} {items}",
    "string_too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "enum": "must be one of {expected}",
    "literal_error": "must be one of {expected}",
}
_PATTERN_MEANINGS: dict[str, str] = {}


def described_pattern(regex: str, meaning: str) -> str:
    """`regex` for `Field(pattern=...)`, remembered with the words a refusal uses for it ("must be ...")."""
    _PATTERN_MEANINGS[regex] = meaning
    return regex


NON_BLANK = described_pattern(r"\S", "must be a non-empty string")


def refused(message: str) -> PydanticCustomError:
    """Raise it in a validator: `message` is shown as it is, after the path of the value being validated."""
    return PydanticCustomError(_REFUSED, "{reason}", {"reason": message})


def refused_at(loc: tuple[str | int, ...], message: str, value: Any) -> ValidationError:
    """Raise it in a validator to name a field or item below the one being validated, e.g. ("ladder", 1, "at")."""
    detail = InitErrorDetails(type=refused(message), loc=loc, input=value)
    return ValidationError.from_exception_data(_REFUSED, [detail])


def validated(
    model: type[Document],
    data: Any,
    document: str,
    *,
    context: Mapping[str, Any] | None = None,
    kind: type[ValidationFailed] = ValidationFailed,
) -> Document:
    """`data` checked against `model`, or `kind` (a ValidationFailed) saying what is wrong where."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as error:
        raise refusal(error, document, fields=tuple(model.model_fields), kind=kind) from error


def refusal(
    error: ValidationError,
    document: str,
    *,
    fields: Sequence[str] = (),
    kind: type[ValidationFailed] = ValidationFailed,
) -> ValidationFailed:
    """The first few problems, one `path: problem` each; a problem with the whole document is named by `document`
    ("priority rules: unknown field(s) vip_first"), and `fields` says what an object of this kind holds."""
    found = [(field_path(e["loc"]) or document, _problem(e, fields)) for e in error.errors(include_url=False)]
    problems = [f"{path}: {problem}" for path, problem in found]
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    message = "; ".join(problems[:MAX_PROBLEMS_SHOWN]) + (f"; and {hidden} more" if hidden > 0 else "")
    refused = kind(message)
    for path, problem in found:
        refused.fields.setdefault(path, problem)
    return refused


def field_path(loc: Sequence[str | int]) -> str:
    """("ladder", 1, "at") -> "ladder[1].at"; a refused mapping key is named by its mapping."""
    parts = list(loc[:-2]) if loc and loc[-1] == "[key]" else list(loc)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problem(error: ErrorDetails, fields: Sequence[str]) -> str:
    kind = error["type"]
    context = {key: f"{value:g}" if isinstance(value, float) else value for key, value in error.get("ctx", {}).items()}
    if kind == _REFUSED:
        return error["msg"]
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind == "string_pattern_mismatch":
        requirement = _PATTERN_MEANINGS.get(context["pattern"], f"must match {context['pattern']}")
    elif kind == "string_too_short" and context.get("min_length") == 1:
        requirement = _PATTERN_MEANINGS[NON_BLANK]
    elif kind in _REQUIREMENTS:
        count = context.get("min_length", context.get("max_length"))
        requirement = _REQUIREMENTS[kind].format(**context, items="item" if count == 1 else "items")
    else:
        return error["msg"]
    if kind == "missing":
        return requirement
    if kind == "model_type" and not error["loc"] and fields:
        requirement += f" with {', '.join(fields)}"
    return f"{requirement}; got {_shown(error['input'])}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
