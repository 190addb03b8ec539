"""Deploying the template's data plane into the emulator.

The SAM transform and the Chalice-generated API crash moto's CloudFormation, so only the data-plane resources
(queues, bucket, event bus) are submitted, as a plain CloudFormation stack, each under a deterministic name
(`<stack>-<LogicalId>`, lower-case for buckets) where the template leaves the name to CloudFormation, so the
names stored in DynamoDB (a quarantined mail's raw bucket) stay valid across restarts. Tables, the secret and the
SES identity are created with their service's own API from the same template Properties: tables because they
live in DynamoDB Local, which CloudFormation cannot reach, as `<stack>-<LogicalId>` (reused when they exist);
the secret with the value the local data folder keeps, so tokens survive a restart. Because moto reports
CREATE_COMPLETE even for what it skipped, every resource is then checked to exist, as declared.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError

from ticketing.local.runtime import FunctionTarget, load_handler
from ticketing.local.template import (
    SERVERLESS_FUNCTION,
    FunctionSpec,
    Resolver,
    UnresolvableError,
    parameter_values,
)

# Not under "ticketing": Powertools' Logger(service="ticketing") owns that name and would reformat these lines.
log = logging.getLogger(__name__.replace("ticketing.local", "local_stack"))

DEFAULT_STACK_NAME = "ticketing-local"

TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"
SECRET = "AWS::SecretsManager::Secret"
EVENT_BUS = "AWS::Events::EventBus"
MAIL_IDENTITY = "AWS::SES::EmailIdentity"
DATA_PLANE_TYPES = frozenset({TABLE, QUEUE, BUCKET, SECRET, EVENT_BUS, MAIL_IDENTITY})

_STACK_READY = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
_STACK_FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS", "DELETE_COMPLETE"}


class ProvisioningError(RuntimeError):
    """The emulator does not hold what the template declares."""


class SecretValues(Protocol):
    """Where generated secret values are kept, so a re-created secret gets the same value."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...


@dataclass
class _Clients:
    region: str
    cloudformation: Any = field(init=False)
    dynamodb: Any = field(init=False)
    sqs: Any = field(init=False)
    s3: Any = field(init=False)
    secretsmanager: Any = field(init=False)
    events: Any = field(init=False)
    ses: Any = field(init=False)
    sts: Any = field(init=False)

    def __post_init__(self) -> None:
        for service in ("cloudformation", "dynamodb", "sqs", "s3", "secretsmanager", "events", "ses", "sts"):
            setattr(self, service, boto3.client(service, region_name=self.region))


@dataclass
class ProvisionedStack:
    """The deployed data plane: physical ids by logical id, and a resolver for the template's intrinsics."""

    stack_name: str
    region: str
    account_id: str
    template: Mapping[str, Any]
    parameters: Mapping[str, str]
    refs: dict[str, str]
    _clients: _Clients = field(repr=False)
    _attributes: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    secret_values: SecretValues | None = field(default=None, repr=False)

    def physical_name(self, logical_id: str, *, lower: bool = False) -> str:
        """The name a resource gets when the template leaves it to CloudFormation: the same on every start."""
        name = f"{self.stack_name}-{logical_id}"
        return name.lower() if lower else name

    @property
    def resolver(self) -> Resolver:
        return Resolver(
            template=self.template,
            parameters=self.parameters,
            pseudo=_pseudo_parameters(self.stack_name, self.region, self.account_id),
            refs=self.refs,
            get_att=self.attribute,
        )

    def resolve(self, value: Any) -> Any:
        return self.resolver.resolve(value)

    def attribute(self, logical_id: str, name: str) -> str:
        """`Fn::GetAtt` for the resource types the local stack uses, looked up from the emulator once."""
        key = (logical_id, name)
        if key not in self._attributes:
            self._attributes[key] = self._lookup_attribute(logical_id, name)
        return self._attributes[key]

    def queue_url(self, logical_id: str) -> str:
        return self.refs[logical_id]

    def function_environment(self, spec: FunctionSpec | None = None, *, cloud_only: tuple[str, ...] = ()) -> dict[str, str]:
        """The resolved environment a function gets (Globals.Function merged with its own variables). Variables
        named in `cloud_only` point at what only a deployed stack has (the Cognito user pool) and are left out."""
        if spec is None:
            globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
            variables = ((globals_fn.get("Environment") or {}).get("Variables")) or {}
        else:
            variables = spec.environment
        return {name: str(self.resolve(value)) for name, value in variables.items() if name not in cloud_only}

    def function_arn(self, logical_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name(logical_id)}"

    def function_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def function_target(self, spec: FunctionSpec) -> FunctionTarget:
        """The function as the local runtime calls it: its handler (imported on first call) and identity."""
        return FunctionTarget(
            name=self.function_name(spec.logical_id),
            arn=self.function_arn(spec.logical_id),
            handler=load_handler(spec.handler),
            memory_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
        )

    def _lookup_attribute(self, logical_id: str, name: str) -> str:
        resource = self.template["Resources"].get(logical_id)
        if resource is None:
            raise UnresolvableError(f"GetAtt {logical_id}.{name}: no such resource")
        kind = resource["Type"]
        clients = self._clients
        if kind == SERVERLESS_FUNCTION and name == "Arn":
            return self.function_arn(logical_id)
        if logical_id not in self.refs:
            raise UnresolvableError(f"GetAtt {logical_id}.{name}: {kind} is not provisioned locally")
        ref = self.refs[logical_id]
        if kind == QUEUE:
            if name == "QueueUrl":
                return ref
            attributes = clients.sqs.get_queue_attributes(QueueUrl=ref, AttributeNames=["QueueArn"])["Attributes"]
            arn = str(attributes["QueueArn"])
            if name == "Arn":
                return arn
            if name == "QueueName":
                return arn.rsplit(":", 1)[1]
        elif kind == TABLE:
            table = clients.dynamodb.describe_table(TableName=ref)["Table"]
            if name == "Arn":
                return str(table["TableArn"])
            if name == "StreamArn" and "LatestStreamArn" in table:
                return str(table["LatestStreamArn"])
        elif kind == BUCKET:
            if name == "Arn":
                return f"arn:aws:s3:::{ref}"
            if name == "DomainName":
                return f"{ref}.s3.amazonaws.com"
        elif kind == EVENT_BUS:
            if name == "Arn":
                return str(clients.events.describe_event_bus(Name=ref)["Arn"])
            if name == "Name":
                return ref
        elif kind == SECRET and name == "Id":
            return ref
        raise UnresolvableError(f"GetAtt {logical_id}.{name} is not supported by the local stack")


def _pseudo_parameters(stack_name: str, region: str, account_id: str) -> dict[str, str]:
    return {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::NoValue": "",
    }


# ------------------------------------------------------------------------------------------------ the subset


_NAME_PROPERTY = {QUEUE: "QueueName", BUCKET: "BucketName"}


# Parameters only the deployed control plane reads (the Cognito hosted sign-in's domain): the local stack, which
# signs agents in itself, gives them a placeholder instead of asking.
CLOUD_ONLY_PARAMETERS = {"AuthDomainPrefix": "local-only"}


def data_plane_subset(
    template: Mapping[str, Any], stack_name: str = DEFAULT_STACK_NAME
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split the data plane into (a plain CloudFormation template moto can deploy, resources to create directly).

    Queues and buckets without a name in the template get `<stack>-<LogicalId>` (lower-case for buckets)."""
    via_cfn: dict[str, Any] = {}
    direct: dict[str, Any] = {}
    for logical_id, resource in template["Resources"].items():
        kind = resource.get("Type")
        if kind not in DATA_PLANE_TYPES:
            continue
        (direct if kind in _DIRECT_CREATORS else via_cfn)[logical_id] = resource
    kept = set(via_cfn)
    resources: dict[str, Any] = {}
    for logical_id, resource in via_cfn.items():
        resource = dict(resource)
        name_property = _NAME_PROPERTY.get(resource["Type"])
        if name_property is not None and name_property not in (resource.get("Properties") or {}):
            name = f"{stack_name}-{logical_id}"
            resource["Properties"] = {**(resource.get("Properties") or {}),
                                      name_property: name.lower() if resource["Type"] == BUCKET else name}  # fmt: skip
        depends = resource.get("DependsOn")
        if depends is not None:
            depends = [name for name in ([depends] if isinstance(depends, str) else depends) if name in kept]
            if depends:
                resource["DependsOn"] = depends
            else:
                resource.pop("DependsOn")
        resources[logical_id] = resource
    cfn_template: dict[str, Any] = {
        "AWSTemplateFormatVersion": template.get("AWSTemplateFormatVersion", "2010-09-09"),
        "Description": "Data plane of infra/template.yaml for the local stack",
        "Resources": resources,
    }
    for section in ("Parameters", "Conditions", "Mappings"):
        if template.get(section):
            cfn_template[section] = template[section]
    return cfn_template, direct


# ------------------------------------------------------------------------------------------------ direct creation


def _create_table(logical_id: str, props: Mapping[str, Any], stack: ProvisionedStack) -> str:
    """AWS::DynamoDB::Table through the DynamoDB API (DynamoDB Local is not behind moto's CloudFormation): the
    template's key schema, attributes, indexes, billing mode and stream, under `TableName` or `<stack>-<LogicalId>`.
    An existing table is reused as it is (its data survives restarts); `verify` then checks it matches."""
    dynamodb = stack._clients.dynamodb
    name = str(props.get("TableName") or stack.physical_name(logical_id))
    try:
        dynamodb.describe_table(TableName=name)
        return name
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    provisioned = request["BillingMode"] == "PROVISIONED"
    if provisioned:
        request["ProvisionedThroughput"] = props.get("ProvisionedThroughput") or {
            "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}  # fmt: skip
    indexes = []
    for index in props.get("GlobalSecondaryIndexes") or []:
        entry = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
        if provisioned:
            entry["ProvisionedThroughput"] = index.get("ProvisionedThroughput") or request["ProvisionedThroughput"]
        indexes.append(entry)
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if props.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
    if props.get("StreamSpecification"):
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    dynamodb.create_table(**request)
    dynamodb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    log.info("created table %s", name)
    return name


def _create_secret(logical_id: str, props: Mapping[str, Any], stack: ProvisionedStack) -> str:
    """AWS::SecretsManager::Secret, which moto's CloudFormation lacks: the same Name, and the value kept in
    `stack.secret_values` when there is one (generated as the template says the first time)."""
    clients = stack._clients
    name = str(props.get("Name") or logical_id)
    kept = stack.secret_values
    try:
        arn = str(clients.secretsmanager.describe_secret(SecretId=name)["ARN"])
        if kept is not None and kept.get(name) is None:
            kept.put(name, str(clients.secretsmanager.get_secret_value(SecretId=name)["SecretString"]))
        return arn
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    value = kept.get(name) if kept is not None else None
    if value is None:
        value = _generated_secret(props, clients)
        if kept is not None:
            kept.put(name, value)
    created = clients.secretsmanager.create_secret(
        Name=name, Description=str(props.get("Description", "")), SecretString=value
    )
    return str(created["ARN"])


def _generated_secret(props: Mapping[str, Any], clients: _Clients) -> str:
    if "SecretString" in props:
        return str(props["SecretString"])
    spec = dict(props.get("GenerateSecretString") or {})
    template = spec.pop("SecretStringTemplate", None)
    key = spec.pop("GenerateStringKey", None)
    allowed = {
        "PasswordLength", "ExcludeCharacters", "ExcludeNumbers", "ExcludePunctuation",
        "ExcludeUppercase", "ExcludeLowercase", "IncludeSpace", "RequireEachIncludedType",
    }  # fmt: skip
    password = clients.secretsmanager.get_random_password(**{k: v for k, v in spec.items() if k in allowed})
    value = str(password["RandomPassword"])
    if template is not None and key is not None:
        value = json.dumps({**json.loads(template), key: value})
    return value


def _create_mail_identity(logical_id: str, props: Mapping[str, Any], stack: ProvisionedStack) -> str:
    """AWS::SES::EmailIdentity, which moto's CloudFormation skips: the sending domain (moto verifies at once)."""
    clients = stack._clients
    identity = str(props["EmailIdentity"])
    if "@" in identity:
        clients.ses.verify_email_identity(EmailAddress=identity)
    else:
        clients.ses.verify_domain_identity(Domain=identity)
    return identity


_DirectCreator = Callable[[str, Mapping[str, Any], "ProvisionedStack"], str]
_DIRECT_CREATORS: dict[str, _DirectCreator] = {
    TABLE: _create_table,
    SECRET: _create_secret,
    MAIL_IDENTITY: _create_mail_identity,
}


# ------------------------------------------------------------------------------------------------ provisioning


def provision(
    template: Mapping[str, Any],
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
    region: str | None = None,
    timeout_seconds: float = 60.0,
    secret_values: SecretValues | None = None,
    before_direct: Callable[[], None] | None = None,
) -> ProvisionedStack:
    """Deploy (or reuse) the template's data plane in the emulator the environment points at, and verify it.

    Tables go to whatever DynamoDB endpoint the environment names (AWS_ENDPOINT_URL_DYNAMODB, else
    AWS_ENDPOINT_URL); `secret_values` keeps generated secret values from one start to the next; `before_direct`
    runs after moto's CloudFormation deployed its part, before the tables are created (the local stack waits for
    DynamoDB Local there, so its JVM boots while moto works)."""
    clients = _Clients(region=region or boto3.session.Session().region_name or "us-east-1")
    account_id = str(clients.sts.get_caller_identity()["Account"])
    values = parameter_values(template, {**CLOUD_ONLY_PARAMETERS, **(parameters or {})})
    cfn_template, direct = data_plane_subset(template, stack_name)

    _deploy_stack(clients, stack_name, cfn_template, values, timeout_seconds)
    stack = ProvisionedStack(
        stack_name=stack_name,
        region=clients.region,
        account_id=account_id,
        template=template,
        parameters=values,
        refs={},
        _clients=clients,
        secret_values=secret_values,
    )
    stack.refs.update(_stack_refs(clients, stack, cfn_template))
    if before_direct is not None:
        before_direct()
    for logical_id, resource in direct.items():
        props = stack.resolve(resource.get("Properties") or {})
        stack.refs[logical_id] = _DIRECT_CREATORS[resource["Type"]](logical_id, props, stack)
    _apply_table_settings(clients, stack, direct)
    verify(stack)
    return stack


def _deploy_stack(
    clients: _Clients, stack_name: str, body: Mapping[str, Any], values: Mapping[str, str], timeout: float
) -> None:
    try:
        status = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
    except ClientError as exc:
        if "does not exist" not in str(exc):
            raise
        status = None
    if status in _STACK_READY:
        log.info("reusing stack %s (%s)", stack_name, status)
        return
    if status is not None:
        raise ProvisioningError(f"stack {stack_name} exists in state {status}; delete it first")
    used = set((body.get("Parameters") or {}).keys())
    clients.cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in used],
    )
    deadline = time.monotonic() + timeout
    while True:
        status = clients.cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status in _STACK_READY:
            return
        if status in _STACK_FAILED or time.monotonic() > deadline:
            events = clients.cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events[:10]]
            raise ProvisioningError(f"stack {stack_name} ended in {status}: {reasons}")
        time.sleep(0.2)


def _stack_refs(clients: _Clients, stack: ProvisionedStack, body: Mapping[str, Any]) -> dict[str, str]:
    """What `Ref` returns for each deployed resource, in the form the emulator's own APIs answer with."""
    physical: dict[str, str] = {}
    paginator = clients.cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack.stack_name):
        for summary in page["StackResourceSummaries"]:
            if summary.get("PhysicalResourceId"):
                physical[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    refs: dict[str, str] = {}
    for logical_id, resource in body["Resources"].items():
        kind = resource["Type"]
        props = resource.get("Properties") or {}
        if kind == EVENT_BUS:
            # moto records no physical id for event buses; Ref of a bus is its Name.
            refs[logical_id] = physical.get(logical_id) or str(stack.resolve(props["Name"]))
        elif logical_id not in physical:
            raise ProvisioningError(f"{logical_id} ({kind}) was not created by the emulator's CloudFormation")
        elif kind == QUEUE:
            # The stack records an amazonaws.com URL; ask the emulator for the URL it serves the queue at.
            name = physical[logical_id].rstrip("/").rsplit("/", 1)[1]
            refs[logical_id] = str(clients.sqs.get_queue_url(QueueName=name)["QueueUrl"])
        else:
            refs[logical_id] = physical[logical_id]
    return refs


def _apply_table_settings(clients: _Clients, stack: ProvisionedStack, resources: Mapping[str, Any]) -> None:
    """TTL and point-in-time recovery (where the emulator has it), from the same table Properties."""
    for logical_id, resource in resources.items():
        if resource["Type"] != TABLE:
            continue
        props = stack.resolve(resource.get("Properties") or {})
        table = stack.refs[logical_id]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            current = clients.dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") != "ENABLED":
                clients.dynamodb.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
        pitr = props.get("PointInTimeRecoverySpecification")
        if pitr and pitr.get("PointInTimeRecoveryEnabled"):
            try:
                clients.dynamodb.update_continuous_backups(
                    TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                )
            except ClientError as exc:  # DynamoDB Local has no backups; nothing local depends on them
                log.debug("point-in-time recovery not set on %s: %s", table, exc.response["Error"]["Code"])


# ------------------------------------------------------------------------------------------------ verification


def verify(stack: ProvisionedStack) -> None:
    """Check every data-plane resource exists as declared; moto reports success for what it silently skipped."""
    clients = stack._clients
    problems: list[str] = []
    for logical_id, resource in stack.template["Resources"].items():
        kind = resource.get("Type")
        if kind not in DATA_PLANE_TYPES:
            continue
        ref = stack.refs.get(logical_id)
        if ref is None:
            problems.append(f"{logical_id} ({kind}) has no physical resource")
            continue
        props = stack.resolve(resource.get("Properties") or {})
        try:
            problems.extend(_check(clients, stack, logical_id, kind, ref, props))
        except ClientError as exc:
            problems.append(f"{logical_id} ({kind}) {ref}: {exc.response['Error']['Code']}")
    if problems:
        raise ProvisioningError(
            "the emulator does not match infra/template.yaml:\n  " + "\n  ".join(problems)
            + "\n(tables kept from an earlier run with another template? `ticketing reset` clears the local data)"
        )


def _check(
    clients: _Clients, stack: ProvisionedStack, logical_id: str, kind: str, ref: str, props: Mapping[str, Any]
) -> list[str]:
    problems: list[str] = []
    if kind == TABLE:
        table = clients.dynamodb.describe_table(TableName=ref)["Table"]
        if table["KeySchema"] != props["KeySchema"]:
            problems.append(f"{logical_id}: key schema {table['KeySchema']} != {props['KeySchema']}")
        expected = {i["IndexName"]: i["KeySchema"] for i in props.get("GlobalSecondaryIndexes") or []}
        actual = {i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes") or []}
        if set(expected) != set(actual):
            problems.append(f"{logical_id}: indexes {sorted(actual)} != {sorted(expected)}")
        problems.extend(
            f"{logical_id}: index {name} keys {actual[name]} != {keys}"
            for name, keys in expected.items()
            if name in actual and actual[name] != keys
        )
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            current = clients.dynamodb.describe_time_to_live(TableName=ref)["TimeToLiveDescription"]
            if current.get("AttributeName") != ttl["AttributeName"]:
                problems.append(f"{logical_id}: TTL on {current.get('AttributeName')} != {ttl['AttributeName']}")
    elif kind == QUEUE:
        attributes = clients.sqs.get_queue_attributes(QueueUrl=ref, AttributeNames=["All"])["Attributes"]
        redrive = props.get("RedrivePolicy")
        if redrive:
            actual_redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
            if (
                actual_redrive.get("deadLetterTargetArn") != redrive["deadLetterTargetArn"]
                or int(actual_redrive.get("maxReceiveCount", 0)) != int(redrive["maxReceiveCount"])
            ):
                problems.append(f"{logical_id}: redrive policy {actual_redrive} != {redrive}")
    elif kind == BUCKET:
        clients.s3.head_bucket(Bucket=ref)
    elif kind == SECRET:
        clients.secretsmanager.describe_secret(SecretId=ref)
    elif kind == EVENT_BUS:
        clients.events.describe_event_bus(Name=ref)
    elif kind == MAIL_IDENTITY:
        attributes = clients.ses.get_identity_verification_attributes(Identities=[ref])["VerificationAttributes"]
        if attributes.get(ref, {}).get("VerificationStatus") != "Success":
            problems.append(f"{logical_id}: SES identity {ref} is not verified")
    return problems

