"""Infrastructure stays in step with the code: CloudFormation tables mirror the PynamoDB models,
the Chalice config holds no secrets and its policies grant exactly the stage's resources, and
DynamoDB Local starts and stops cleanly.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from chalicelib.store.models import ALL_MODELS
from infra.local.dynamodb import DynamoDBLocal, port_in_use

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "cloudformation" / "switchboard.yaml"
CHALICE = ROOT / ".chalice"


@pytest.fixture(scope="module")
def template() -> dict:
    return cfn_yaml.load(str(TEMPLATE))


@pytest.fixture(scope="module")
def tables(template) -> dict[str, dict]:
    """Table properties by short name (the part of TableName after the prefix)."""
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::DynamoDB::Table":
            name = resource["Properties"]["TableName"]["Fn::Sub"][0]
            assert name.startswith("${Prefix}"), name
            found[name.removeprefix("${Prefix}")] = resource
    return found


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    cmd = str(cfn_lint) if cfn_lint.exists() else shutil.which("cfn-lint")
    result = subprocess.run([cmd, str(TEMPLATE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_table_per_model(tables):
    assert set(tables) == {model.Meta.short_name for model in ALL_MODELS}


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.Meta.short_name)
def test_table_mirrors_model(model, tables):
    resource = tables[model.Meta.short_name]
    props = resource["Properties"]
    schema = model._get_schema()

    assert _attrs(props["AttributeDefinitions"]) == _attrs(schema["attribute_definitions"])
    assert _keys(props["KeySchema"]) == _keys(schema["key_schema"])
    assert props["KeySchema"][0]["KeyType"] == "HASH"  # CloudFormation wants HASH first
    expected_gsis = {
        gsi["index_name"]: (_keys(gsi["key_schema"]), gsi["projection"]["ProjectionType"])
        for gsi in schema["global_secondary_indexes"]
    }
    actual_gsis = {
        gsi["IndexName"]: (_keys(gsi["KeySchema"]), gsi["Projection"]["ProjectionType"])
        for gsi in props.get("GlobalSecondaryIndexes", [])
    }
    assert actual_gsis == expected_gsis
    for gsi in props.get("GlobalSecondaryIndexes", []):
        assert gsi["KeySchema"][0]["KeyType"] == "HASH", gsi["IndexName"]
    assert not schema["local_secondary_indexes"], "LSIs are not mirrored in the template yet"

    ttl = model._ttl_attribute()
    if ttl is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl.attr_name, "Enabled": True}

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert resource["DeletionPolicy"] == "Retain"


def test_gsis_named_as_the_code_expects(tables):
    calls = tables["calls"]["Properties"]["GlobalSecondaryIndexes"]
    voicemails = tables["voicemails"]["Properties"]["GlobalSecondaryIndexes"]
    assert [g["IndexName"] for g in calls] == ["open_calls"]
    assert [g["IndexName"] for g in voicemails] == ["by_hotline"]


def test_ssm_parameters_are_the_non_secret_ones(template):
    params = [r["Properties"] for r in template["Resources"].values()
              if r["Type"] == "AWS::SSM::Parameter"]
    names = sorted(p["Name"]["Fn::Sub"] for p in params)
    assert names == [
        "/switchboard/${Stage}/public-base-url",
        "/switchboard/${Stage}/twilio/account-sid",
    ]
    assert all(p["Type"] == "String" for p in params)


# --- alarms -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def alarms(template) -> dict[str, dict]:
    return {name: resource["Properties"] for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::CloudWatch::Alarm"}


def test_alarms_watch_api_errors_fallbacks_and_a_late_sweeper(alarms):
    assert set(alarms) == {"ApiServerErrorsAlarm", "FallbacksServedAlarm", "SweeperLateAlarm"}
    for name, alarm in alarms.items():
        assert alarm["AlarmName"]["Fn::Sub"].startswith("switchboard-${Stage}-"), name
        topic = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
        assert alarm["AlarmActions"] == topic and alarm["OKActions"] == topic, name
    api = alarms["ApiServerErrorsAlarm"]
    assert (api["Namespace"], api["MetricName"], api["Statistic"]) == (
        "AWS/ApiGateway", "5XXError", "Sum")
    assert _dims(api) == {"ApiName": {"Ref": "ApiName"}, "Stage": {"Ref": "ApiStageName"}}
    assert api["TreatMissingData"] == "notBreaching"
    fallbacks = alarms["FallbacksServedAlarm"]
    assert (fallbacks["MetricName"], fallbacks["Statistic"], fallbacks["Threshold"]) == (
        "FallbacksServed", "Sum", 1)
    assert fallbacks["TreatMissingData"] == "notBreaching"
    sweeper = alarms["SweeperLateAlarm"]
    assert (sweeper["MetricName"], sweeper["Statistic"]) == ("JobDuration", "Maximum")
    assert (sweeper["Period"], sweeper["EvaluationPeriods"], sweeper["DatapointsToAlarm"]) == (
        60, 5, 3)
    assert sweeper["TreatMissingData"] == "breaching", "a sweeper that stopped is late too"


def test_alarms_watch_what_the_code_sends(alarms, template, config, app_module):
    from chalicelib import observability

    for name in ("FallbacksServedAlarm", "SweeperLateAlarm"):
        assert alarms[name]["Namespace"] == observability.NAMESPACE
        assert _dims(alarms[name])["stage"] == {"Ref": "Stage"}
    # every stage the template deploys sends metrics with its own stage name
    for stage in template["Parameters"]["Stage"]["AllowedValues"]:
        assert config["stages"][stage]["environment_variables"]["SWITCHBOARD_STAGE"] == stage
    jobs = {source.name for source in app_module.app.event_sources}
    assert _dims(alarms["SweeperLateAlarm"])["job"] in jobs
    sources = "".join(path.read_text() for path in (ROOT / "chalicelib").rglob("*.py"))
    assert 'metric("FallbacksServed")' in sources
    assert 'metric("JobDuration"' in sources
    # the API and stage Chalice deploys; "late" comes before the Lambda timeout kills the sweep
    params = template["Parameters"]
    assert params["ApiName"]["Default"] == config["app_name"]
    assert {stage["api_gateway_stage"] for stage in config["stages"].values()} == {
        params["ApiStageName"]["Default"]}
    timeout_ms = config["lambda_timeout"] * 1000
    assert params["SweepLateMilliseconds"]["Default"] < params["SweepLateMilliseconds"][
        "MaxValue"] <= timeout_ms
    assert params["AlarmTopicArn"]["Default"] == ""


def _dims(alarm) -> dict:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def _attrs(definitions) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in definitions}


def _keys(key_schema) -> dict[str, str]:
    """KeyType -> attribute name; PynamoDB lists a GSI's keys in attribute order, not HASH first."""
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


# --- .chalice ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def config() -> dict:
    return json.loads((CHALICE / "config.json").read_text())


def test_chalice_stages_and_policy(config):
    assert config["app_name"] == "switchboard"
    assert set(config["stages"]) == {"local", "dev", "prod"}
    for name, stage in config["stages"].items():
        assert stage.get("autogen_policy", config.get("autogen_policy")) is False, name
        assert (CHALICE / stage["iam_policy_file"]).is_file(), name


def test_chalice_config_holds_no_secrets(config):
    text = json.dumps(config)
    for key in ("TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL", "AWS_SECRET_ACCESS_KEY"):
        assert key not in text
    assert not re.search(r"\b(AC|SK)[0-9a-fA-F]{32}\b", text), "a Twilio SID or API key"
    assert not re.search(r"\b[0-9a-fA-F]{32}\b", text), "something shaped like a Twilio token"
    assert config["stages"]["local"].get("environment_variables", {}) == {}, (
        "chalice local applies these over the developer's environment"
    )


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_policy_grants_exactly_the_stage(stage, config):
    env = config["stages"][stage]["environment_variables"]
    assert env["SWITCHBOARD_STAGE"] == stage
    policy = json.loads((CHALICE / f"policy-{stage}.json").read_text())
    resources = json.dumps(policy)
    assert f"table/{env['TABLE_PREFIX']}*" in resources
    assert f"parameter{env['SSM_PREFIX']}/*" in resources
    other = {"dev": "prod", "prod": "dev"}[stage]
    assert f"switchboard-{other}" not in resources and f"/switchboard/{other}" not in resources
    actions = {a for s in policy["Statement"] for a in _list(s["Action"])}
    assert not any(a.endswith("*") for a in actions), actions
    assert "dynamodb:DeleteTable" not in actions
    # Scan only on the two small configuration tables the admin API and board read whole
    scans = [s for s in policy["Statement"] if "dynamodb:Scan" in _list(s["Action"])]
    assert [sorted(_list(s["Resource"])) for s in scans] == [sorted(
        f"arn:aws:dynamodb:*:*:table/{env['TABLE_PREFIX']}{name}" for name in ("agents", "queues")
    )]


def _list(value):
    return value if isinstance(value, list) else [value]


# --- DynamoDB Local ---------------------------------------------------------------------------

def test_dynamodb_local_starts_serves_and_frees_its_port():
    ddb = DynamoDBLocal()
    with ddb:
        assert ddb.endpoint == f"http://127.0.0.1:{ddb.port}"
        client = boto3.client(
            "dynamodb", endpoint_url=ddb.endpoint, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )
        client.create_table(
            TableName="infra-probe",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert "infra-probe" in client.list_tables()["TableNames"]
    assert not ddb.running
    assert not port_in_use(ddb.port)
    with socket.socket() as sock:  # it had bound every interface; so can we now
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", ddb.port))


def test_dynamodb_local_refuses_a_taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(RuntimeError, match="already taken"):
            DynamoDBLocal(port=sock.getsockname()[1]).start()


def test_dynamodb_local_says_when_java_is_missing(monkeypatch):
    import infra.local.dynamodb as module

    real_which = module.shutil.which
    monkeypatch.setattr(module.shutil, "which", lambda n: None if n == "java" else real_which(n))
    with pytest.raises(RuntimeError, match="java is not on PATH"):
        DynamoDBLocal().start()


def test_the_suites_tables_never_expire_items(app_module):
    """DynamoDB Local deletes expired items by the machine's real clock, and the tests' clocks
    pin dates the calendar leaves behind: with expiry on, lines and requests would vanish in the
    middle of a test (a date-dependent failure). The suite's tables keep expiry off."""
    from chalicelib.store.models import ALL_MODELS, transaction_connection

    client = transaction_connection().client
    with_ttl = [model for model in ALL_MODELS if model._ttl_attribute() is not None]
    assert with_ttl
    for model in with_ttl:
        status = client.describe_time_to_live(TableName=model.Meta.table_name)
        assert status["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED", model
