"""Reading infra/template.yaml: the one definition the local stack is built from.

The local stack never keeps a second, hand-written list of tables, queues or functions; it reads them here.
CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...) become their long JSON forms, and `Resolver` evaluates the
intrinsic functions the local stack needs (Ref, GetAtt, Sub, Join, If, Select, Split, conditions) against the
physical ids of a deployed stack.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"

SERVERLESS_FUNCTION = "AWS::Serverless::Function"
SES_RECEIPT_RULE = "AWS::SES::ReceiptRule"


# ------------------------------------------------------------------------------------------------ loading


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if name == "Ref":
        return {"Ref": value}
    if name == "Condition":
        return {"Condition": value}
    if name == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{name}": value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, with short tags turned into {"Ref": ...} / {"Fn::X": ...} dicts."""
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return document


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every parameter's value: the override if given, else its Default."""
    values: dict[str, str] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if overrides and name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in spec:
            values[name] = str(spec["Default"])
        else:
            raise ValueError(f"template parameter {name} has no Default and no value was given")
    return values


# ------------------------------------------------------------------------------------------------ resolving


class UnresolvableError(ValueError):
    """An intrinsic the local stack cannot evaluate (unknown resource, attribute or function)."""


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Resolver:
    """Evaluates intrinsic functions against a deployed stack.

    `refs` maps logical ids to what `Ref` returns (physical ids); `get_att` answers `Fn::GetAtt`, so a caller can
    look attributes up lazily (e.g. a queue's Arn) instead of precomputing every one.
    """

    template: Mapping[str, Any]
    parameters: Mapping[str, str]
    pseudo: Mapping[str, str]
    refs: Mapping[str, str]
    get_att: Callable[[str, str], str]
    _conditions: dict[str, bool] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value` (dicts and lists are walked)."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        return {key: self.resolve(item) for key, item in value.items()}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise UnresolvableError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    def _ref(self, name: str) -> str:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvableError(f"Ref {name}: not a parameter, pseudo parameter or provisioned resource")

    def _function(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            resource, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(str(resource), str(self.resolve(attribute)))
        if name == "Sub":
            return self._sub(arg)
        if name == "Join":
            delimiter, items = arg
            return str(delimiter).join(str(item) for item in self.resolve(items))
        if name == "If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name == "Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if name == "Not":
            return not self.resolve(arg)[0]
        if name == "And":
            return all(self.resolve(arg))
        if name == "Or":
            return any(self.resolve(arg))
        if name == "Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if name == "Split":
            delimiter, text = self.resolve(arg)
            return str(text).split(delimiter)
        if name == "FindInMap":
            mapping, top, second = self.resolve(arg)
            return self.template["Mappings"][mapping][top][second]
        raise UnresolvableError(f"Fn::{name} is not supported by the local stack")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {key: self.resolve(value) for key, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in local:
                return str(local[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self.get_att(resource, attribute)
            return self._ref(name)

        # "${!Literal}" is CloudFormation's escape for a literal "${Literal}".
        return _SUB_VARIABLE.sub(replace, str(text)).replace("${!", "${")


# ------------------------------------------------------------------------------------------------ functions


@dataclass(frozen=True)
class SqsEventSource:
    """One `Type: SQS` event of a function: what Lambda's event source mapping would poll."""

    name: str
    queue_logical_id: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool
    enabled: bool


@dataclass(frozen=True)
class ScheduleEventSource:
    """One `Type: Schedule` (EventBridge rule) or `Type: ScheduleV2` (EventBridge Scheduler) event of a function.

    `expression` is the raw `rate(...)`/`cron(...)`/`at(...)` text; `ticketing.local.schedules` decides whether the
    local stack can play it. `input` is the event's `Input` as written (a JSON string, or an intrinsic to resolve).
    """

    name: str
    kind: str  # "Schedule" or "ScheduleV2"
    expression: str
    enabled: bool
    input: Any = None
    rule_name: str | None = None  # Properties.Name, if the template names the rule/schedule
    timezone: str | None = None  # ScheduleV2's ScheduleExpressionTimezone


@dataclass(frozen=True)
class StreamEventSource:
    """One `Type: DynamoDB` event of a function: a table's stream, as Lambda's stream mapping would read it."""

    name: str
    table_logical_id: str
    batch_size: int
    report_batch_item_failures: bool
    max_retries: int
    on_failure_queue_logical_id: str | None
    enabled: bool


def _stream_event(function_id: str, event_name: str, props: Mapping[str, Any]) -> StreamEventSource:
    stream = props.get("Stream")
    if not (isinstance(stream, dict) and "Fn::GetAtt" in stream):
        raise ValueError(f"{function_id}.Events.{event_name}.Properties.Stream must be !GetAtt <Table>.StreamArn")
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    queue = str(destination["Fn::GetAtt"][0]) if isinstance(destination, dict) and "Fn::GetAtt" in destination else None
    return StreamEventSource(
        name=event_name,
        table_logical_id=str(stream["Fn::GetAtt"][0]),
        batch_size=int(props.get("BatchSize", 100)),
        report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        on_failure_queue_logical_id=queue,
        enabled=bool(props.get("Enabled", True)),
    )


SCHEDULE_EVENT_TYPES = ("Schedule", "ScheduleV2")


def _schedule_event(event_name: str, kind: str, props: Mapping[str, Any]) -> ScheduleEventSource:
    expression = props.get("Schedule") if kind == "Schedule" else props.get("ScheduleExpression")
    state = str(props.get("State", "ENABLED")).upper()
    return ScheduleEventSource(
        name=event_name,
        kind=kind,
        expression=str(expression if expression is not None else "").strip(),
        # SAM's Schedule takes Enabled (bool) or State; ScheduleV2 only State.
        enabled=bool(props.get("Enabled", True)) and state != "DISABLED",
        input=props.get("Input"),
        rule_name=str(props["Name"]) if isinstance(props.get("Name"), str) else None,
        timezone=str(props["ScheduleExpressionTimezone"]) if props.get("ScheduleExpressionTimezone") else None,
    )


@dataclass(frozen=True)
class FunctionSpec:
    """An AWS::Serverless::Function, as much of it as running the handler in-process needs."""

    logical_id: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, Any]
    sqs_events: tuple[SqsEventSource, ...]
    dead_letter_queue_arn: Any  # an intrinsic (usually Fn::GetAtt of a queue) or None
    max_async_retries: int
    schedule_events: tuple[ScheduleEventSource, ...] = ()
    stream_events: tuple[StreamEventSource, ...] = ()


def _queue_logical_id(function_id: str, event_name: str, queue: Any) -> str:
    if isinstance(queue, dict) and "Fn::GetAtt" in queue:
        return str(queue["Fn::GetAtt"][0])
    raise ValueError(
        f"{function_id}.Events.{event_name}.Properties.Queue must be !GetAtt <Queue>.Arn "
        "so the local stack can find the queue it polls"
    )


def functions(template: Mapping[str, Any]) -> dict[str, FunctionSpec]:
    """Every serverless function, with Globals.Function merged in the way SAM merges them."""
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    global_env = ((globals_fn.get("Environment") or {}).get("Variables")) or {}
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != SERVERLESS_FUNCTION:
            continue
        props = resource.get("Properties") or {}
        env = {**global_env, **(((props.get("Environment") or {}).get("Variables")) or {})}
        events: list[SqsEventSource] = []
        schedules: list[ScheduleEventSource] = []
        streams: list[StreamEventSource] = []
        for event_name, event in (props.get("Events") or {}).items():
            if event.get("Type") == "DynamoDB":
                streams.append(_stream_event(logical_id, event_name, event.get("Properties") or {}))
                continue
            if event.get("Type") in SCHEDULE_EVENT_TYPES:
                schedules.append(_schedule_event(event_name, event["Type"], event.get("Properties") or {}))
                continue
            if event.get("Type") != "SQS":
                continue
            event_props = event.get("Properties") or {}
            events.append(
                SqsEventSource(
                    name=event_name,
                    queue_logical_id=_queue_logical_id(logical_id, event_name, event_props.get("Queue")),
                    batch_size=int(event_props.get("BatchSize", 10)),
                    batching_window_seconds=int(event_props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (event_props.get("FunctionResponseTypes") or []),
                    enabled=bool(event_props.get("Enabled", True)),
                )
            )
        dlq = props.get("DeadLetterQueue") or {}
        invoke_config = props.get("EventInvokeConfig") or {}
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            handler=str(props["Handler"]),
            timeout_seconds=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            memory_mb=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
            environment=env,
            sqs_events=tuple(events),
            dead_letter_queue_arn=dlq.get("TargetArn") if dlq.get("Type", "SQS") == "SQS" else None,
            max_async_retries=int(invoke_config.get("MaximumRetryAttempts", 2)),
            schedule_events=tuple(schedules),
            stream_events=tuple(streams),
        )
    return specs


@dataclass(frozen=True)
class LambdaReceipt:
    """An SES receipt rule that stores mail in S3 and then invokes a function: what the SMTP intake plays."""

    rule_logical_id: str
    recipients: tuple[Any, ...]  # intrinsics (e.g. !Ref SupportDomain); resolve before use
    bucket: Any
    object_key_prefix: str
    function_logical_id: str
    invocation_type: str


def ses_lambda_receipts(template: Mapping[str, Any]) -> list[LambdaReceipt]:
    """SES receipt rules with an S3 action followed by a Lambda action on a function of this template."""
    receipts: list[LambdaReceipt] = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != SES_RECEIPT_RULE:
            continue
        rule = (resource.get("Properties") or {}).get("Rule") or {}
        s3_action: dict[str, Any] | None = None
        for action in rule.get("Actions") or []:
            if "S3Action" in action:
                s3_action = action["S3Action"]
            lambda_action = action.get("LambdaAction")
            if lambda_action is None:
                continue
            target = lambda_action.get("FunctionArn")
            if not (isinstance(target, dict) and "Fn::GetAtt" in target):
                continue
            if s3_action is None:
                raise ValueError(f"{logical_id}: the Lambda action must come after an S3 action storing the raw mail")
            receipts.append(
                LambdaReceipt(
                    rule_logical_id=logical_id,
                    recipients=tuple(rule.get("Recipients") or []),
                    bucket=s3_action["BucketName"],
                    object_key_prefix=str(s3_action.get("ObjectKeyPrefix", "")),
                    function_logical_id=str(target["Fn::GetAtt"][0]),
                    invocation_type=str(lambda_action.get("InvocationType", "Event")),
                )
            )
    return receipts
