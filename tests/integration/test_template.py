"""infra/template.yaml is the one definition of the data plane: it lints, it matches the pynamodb models, and its
data-plane subset deploys into moto with every function setting naming something real."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.settings import get_settings
from shared.storage.models import ALL_MODELS
from ticketing.local.provision import (
    DATA_PLANE_TYPES,
    ProvisionedStack,
    ProvisioningError,
    data_plane_subset,
    provision,
)
from ticketing.local.template import TEMPLATE_PATH, functions, load_template, ses_lambda_receipts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _table_for_model(template: dict[str, Any], model: Any) -> dict[str, Any]:
    """The template table a model lives in, found the way a deployed function finds it: via its env variable."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    settings = get_settings()  # what the models read their table names from
    for variable, value in variables.items():
        if variable.endswith("_TABLE") and getattr(settings, variable.lower()) == model.Meta.table_name:
            return template["Resources"][value["Ref"]]
    raise AssertionError(f"no *_TABLE variable in Globals names the table of {model.__name__}")


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {key["KeyType"]: key["AttributeName"] for key in schema}


def test_template_passes_cfn_lint() -> None:
    from cfnlint.api import lint_file

    problems = [m for m in lint_file(TEMPLATE_PATH) if m.rule.id[0] in "EW"]
    assert problems == [], "\n".join(str(problem) for problem in problems)


def test_short_form_intrinsics_load_as_their_long_forms(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["TICKETS_TABLE"] == {"Ref": "TicketsTable"}
    assert variables["SIGNING_SECRET_NAME"] == {"Fn::Sub": "${AWS::StackName}/signing-key"}
    redrive = template["Resources"]["RouteQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {"deadLetterTargetArn": {"Fn::GetAtt": ["RouteDLQ", "Arn"]}, "maxReceiveCount": 5}


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda model: model.__name__)
def test_every_model_has_a_table_with_the_same_keys_and_indexes(template: dict[str, Any], model: Any) -> None:
    table = _table_for_model(template, model)["Properties"]
    schema = model._get_schema()

    assert _keys(table["KeySchema"]) == _keys(schema["key_schema"])
    declared = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert declared == {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    template_indexes = {
        index["IndexName"]: (_keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    model_indexes = {
        index["index_name"]: (_keys(index["key_schema"]), index["projection"]["ProjectionType"])
        for index in schema["global_secondary_indexes"]
    }
    assert template_indexes == model_indexes
    assert not table.get("LocalSecondaryIndexes") and not schema["local_secondary_indexes"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_tables_holding_customer_history_have_point_in_time_recovery_and_markers_expire(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    for name in ("TicketsTable", "ThreadTable", "CustomersTable", "ConfigTable", "AgentsTable", "QuarantineTable"):
        assert resources[name]["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    for name in ("TicketsTable", "ThreadTable", "CustomersTable", "ConfigTable", "AgentsTable", "QuarantineTable"):
        assert resources[name]["DeletionPolicy"] == resources[name]["UpdateReplacePolicy"] == "Retain", name
    tables = [r for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) >= 9 and all(t["Properties"]["SSESpecification"]["SSEEnabled"] for t in tables)
    assert resources["MarkersTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_support_mail_is_stored_under_inbound_then_handed_to_ingest_with_a_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    (receipt,) = ses_lambda_receipts(template)
    assert receipt.recipients == ({"Ref": "SupportDomain"},)
    assert receipt.bucket == {"Ref": "MailBucket"}
    assert receipt.object_key_prefix == "inbound/"
    assert receipt.invocation_type == "Event"
    ingest = functions(template)[receipt.function_logical_id]
    assert ingest.handler == "functions.ingest.handler.lambda_handler"
    assert ingest.dead_letter_queue_arn == {"Fn::GetAtt": ["IngestDLQ", "Arn"]}
    assert ingest.max_async_retries == 2


def test_the_data_plane_subset_leaves_out_what_moto_cannot_deploy(template: dict[str, Any]) -> None:
    cfn_template, direct = data_plane_subset(template)
    assert "Transform" not in cfn_template and "Globals" not in cfn_template
    kinds = {resource["Type"] for resource in cfn_template["Resources"].values()}
    assert kinds <= DATA_PLANE_TYPES - {"AWS::SecretsManager::Secret", "AWS::SES::EmailIdentity", "AWS::DynamoDB::Table"}
    tables = {name for name, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    secrets = {name for name, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"}
    assert secrets == {"SigningSecret", "WhatsAppSecret", "MessengerSecret", "InstagramSecret", "TelegramSecret",
                       "WidgetSecret", "PhoneSecret"}  # fmt: skip
    assert set(direct) == {"SupportMailIdentity"} | secrets | tables  # tables live in DynamoDB Local


def test_queues_and_the_bucket_get_the_same_names_on_every_start(template: dict[str, Any]) -> None:
    """Names stored in DynamoDB (a quarantined mail's raw bucket) must still be valid after a restart."""
    cfn_template, _ = data_plane_subset(template, "ticketing-local")
    resources = cfn_template["Resources"]
    assert resources["RouteQueue"]["Properties"]["QueueName"] == "ticketing-local-RouteQueue"
    assert resources["IngestDLQ"]["Properties"]["QueueName"] == "ticketing-local-IngestDLQ"
    assert resources["MailBucket"]["Properties"]["BucketName"] == "ticketing-local-mailbucket"
    assert "BucketName" not in template["Resources"]["MailBucket"]["Properties"]  # the template itself is untouched


# ------------------------------------------------------------------------------------------------ into moto


@pytest.fixture
def deployed(template: dict[str, Any]) -> Any:
    with mock_aws():
        yield provision(copy.deepcopy(template), stack_name="ticketing-test", parameters={"Stage": "test"})


def test_every_data_plane_resource_of_the_template_exists_in_moto(
    deployed: ProvisionedStack, template: dict[str, Any]
) -> None:
    declared = {name for name, r in template["Resources"].items() if r["Type"] in DATA_PLANE_TYPES}
    assert set(deployed.refs) == declared
    # Queues, bucket and bus from moto's CloudFormation; tables and the secret created directly from the same
    # Properties, under names that do not change from one start to the next.
    from shared.storage.models import ALL_MODELS

    tables = [n for n in declared if template["Resources"][n]["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == len(ALL_MODELS)
    assert {deployed.refs[n] for n in tables} == {f"ticketing-test-{n}" for n in tables}


def test_resolved_function_settings_name_real_tables_queues_bucket_and_secret(deployed: ProvisionedStack) -> None:
    env = deployed.function_environment()
    dynamodb = boto3.client("dynamodb")
    for variable in ("TICKETS_TABLE", "THREAD_TABLE", "CUSTOMERS_TABLE", "AGENTS_TABLE", "AGENT_LOAD_TABLE",
                     "MARKERS_TABLE", "QUARANTINE_TABLE"):  # fmt: skip
        assert dynamodb.describe_table(TableName=env[variable])["Table"]["TableStatus"] == "ACTIVE"
    assert dynamodb.describe_time_to_live(TableName=env["MARKERS_TABLE"])["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }

    sqs = boto3.client("sqs")
    route = sqs.get_queue_attributes(QueueUrl=env["ROUTE_QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    assert '"maxReceiveCount": 5' in route["RedrivePolicy"]
    assert deployed.attribute("RouteDLQ", "Arn") in route["RedrivePolicy"]
    sqs.get_queue_attributes(QueueUrl=env["ESCALATE_QUEUE_URL"], AttributeNames=["QueueArn"])

    boto3.client("s3").head_bucket(Bucket=env["MAIL_BUCKET"])
    boto3.client("events").describe_event_bus(Name=env["EVENT_BUS_NAME"])
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=env["SIGNING_SECRET_NAME"])
    assert env["SIGNING_SECRET_NAME"] == "ticketing-test/signing-key"
    assert len(secret["SecretString"]) == 64

    assert env["STAGE"] == "test"
    assert env["SUPPORT_DOMAIN"] == "example.com"
    assert env["POWERTOOLS_SERVICE_NAME"] == "ticketing"


def test_provisioning_again_reuses_the_stack(deployed: ProvisionedStack, template: dict[str, Any]) -> None:
    again = provision(copy.deepcopy(template), stack_name="ticketing-test", parameters={"Stage": "test"})
    assert again.refs == deployed.refs


class _Kept(dict[str, str]):
    def put(self, name: str, value: str) -> None:
        self[name] = value


def test_a_kept_secret_value_is_reused_so_tokens_outlive_a_restart(template: dict[str, Any]) -> None:
    kept = _Kept()
    with mock_aws():
        first = provision(copy.deepcopy(template), stack_name="ticketing-test", secret_values=kept)
        value = boto3.client("secretsmanager").get_secret_value(SecretId="ticketing-test/signing-key")["SecretString"]
    assert kept["ticketing-test/signing-key"] == value and len(value) == 64
    whatsapp = json.loads(kept["ticketing-test/channels/whatsapp"])  # each channel's secret: JSON, one generated field
    assert len(whatsapp["app_secret"]) == 48 and set(whatsapp) == {"app_secret", "access_token", "phone_number_id"}
    with mock_aws():  # a fresh emulator, as after a restart
        provision(copy.deepcopy(template), stack_name="ticketing-test", secret_values=kept)
        again = boto3.client("secretsmanager").get_secret_value(SecretId="ticketing-test/signing-key")["SecretString"]
    assert again == value
    assert len(kept) == 7  # the signing key and six channel secrets, each kept across the restart
    assert first.refs["SigningSecret"].startswith("arn:aws:secretsmanager:")


def test_a_kept_table_that_no_longer_matches_the_template_is_reported(template: dict[str, Any]) -> None:
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="ticketing-test-AgentsTable", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        )  # fmt: skip
        with pytest.raises(ProvisioningError, match="(?s)AgentsTable: key schema.*ticketing reset"):
            provision(copy.deepcopy(template), stack_name="ticketing-test")
