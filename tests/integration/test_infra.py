"""Infrastructure stays in step with the code: CloudFormation tables mirror the PynamoDB models,
the Chalice config holds no secrets and its policies grant exactly the stage's resources,
DynamoDB Local starts and stops cleanly, and the unit tests run without it (no Java, npm or
network).
"""

from __future__ import annotations

import json
import os
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
        "/switchboard/${Stage}/console/client-id",
        "/switchboard/${Stage}/console/user-pool-id",
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


# --- the test harness -------------------------------------------------------------------------

def test_unit_tests_need_no_java_npm_network_or_bundle(tmp_path):
    """``pytest tests/unit`` runs on a bare checkout with only the venv: no Java or npm on PATH,
    no DynamoDB Local (``SWITCHBOARD_TEST_OFFLINE`` makes the harness refuse to start it and to
    connect beyond this machine), no ``node_modules`` and no ``make bundle`` output."""
    from tests.conftest import CLOCK_SHIFT, OFFLINE

    # what a commit would hold: tracked and new files, nothing git ignores (the venv,
    # node_modules with DynamoDB Local's jar, chalicelib/ivr/bundled, caches)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    checkout = tmp_path / "checkout"
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, checkout / name)
    assert (checkout / "tests" / "unit").is_dir()
    assert not (checkout / "chalicelib" / "ivr" / "bundled").exists()
    assert not (checkout / "infra" / "local" / "node_modules").exists()

    # PATH holds only `python` (this interpreter, venv and all)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", OFFLINE: "1"}
    if os.environ.get(CLOCK_SHIFT):
        env[CLOCK_SHIFT] = os.environ[CLOCK_SHIFT]
    assert shutil.which("java", path=env["PATH"]) is None
    assert shutil.which("npm", path=env["PATH"]) is None

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit", "-q", "-p", "no:randomly"],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"\d+ passed", output), output[-4000:]
# --- the Lambda package (infra/lambda_package.py; `make package` runs it on Chalice's zip) ------

def _dist(files: dict[str, str], name: str, version: str, requires: list[str],
          contents: dict[str, str]) -> None:
    """Lay out an installed distribution as a wheel unpacks it: its files and its dist-info."""
    info = f"{name.replace('-', '_')}-{version}.dist-info/"
    files.update(contents)
    files[info + "METADATA"] = "\n".join(
        ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        + [f"Requires-Dist: {r}" for r in requires]) + "\n"
    files[info + "RECORD"] = "".join(f"{path},sha256=x,1\n" for path in contents) + \
        f"{info}METADATA,,\n{info}RECORD,,\n"


def _zip(path: Path, files: dict[str, str]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def _names(path: Path) -> set[str]:
    import zipfile

    return set(zipfile.ZipFile(path).namelist())


def test_package_trim_drops_what_the_app_never_loads_and_keeps_the_rest(tmp_path):
    from infra.lambda_package import trim

    # Given a package shaped like Chalice's: twilio needing aiohttp (for its asyncio client)
    # and requests; aiohttp needing yarl and attrs; yarl needing idna, which requests needs too
    # and the work tree's bytecode, which Chalice copies along with chalicelib/
    stale = f"chalicelib/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    files = {"app.py": "import chalicelib\n", "chalicelib/__init__.py": "", stale: "timestamped"}
    _dist(files, "twilio", "9.13.0", ["requests>=2", "aiohttp>=3.8.4", "aiohttp-retry>=2.8.3"],
          {"twilio/__init__.py": "", "twilio/http/http_client.py": "",
           "twilio/http/async_http_client.py": "import aiohttp\n"})
    _dist(files, "aiohttp", "3.14.5", ["yarl>=1.17", "attrs>=17.3",
                                       'async-timeout>=4; python_version < "3.11"'],
          {"aiohttp/__init__.py": "", "aiohttp/_http_parser.so": "x" * 5000})
    _dist(files, "aiohttp_retry", "2.9.1", ["aiohttp"], {"aiohttp_retry/__init__.py": ""})
    _dist(files, "yarl", "1.25.1", ["idna>=2"], {"yarl/__init__.py": ""})
    _dist(files, "attrs", "26.1.0", [], {"attr/__init__.py": "", "attrs/__init__.py": ""})
    _dist(files, "requests", "2.34.2", ["idna<4,>=2.5", 'PySocks; extra == "socks"'],
          {"requests/__init__.py": ""})
    _dist(files, "idna", "3.20", [], {"idna/__init__.py": ""})
    _dist(files, "botocore", "1.44.8", [], {
        "botocore/__init__.py": "", "botocore/data/endpoints.json": "{}",
        "botocore/data/partitions.json": "{}",
        "botocore/data/dynamodb/2012-08-10/service-2.json.gz": "d",
        "botocore/data/ssm/2014-11-06/service-2.json.gz": "s",
        "botocore/data/ec2/2016-11-15/service-2.json.gz": "e" * 5000,
        "botocore/data/s3/2006-03-01/service-2.json.gz": "s3"})
    _dist(files, "phonenumbers", "9.0.43", [], {
        "phonenumbers/__init__.py": "", "phonenumbers/timezone.py": "",
        "phonenumbers/tzdata/__init__.py": "", "phonenumbers/data/region_US.py": "",
        "phonenumbers/shortdata/region_US.py": "",
        "phonenumbers/geocoder.py": "", "phonenumbers/geodata/data0.py": "g" * 5000,
        "phonenumbers/carrier.py": "", "phonenumbers/carrierdata/data0.py": "c"})
    package = _zip(tmp_path / "deployment.zip", files)

    # When it is trimmed
    report = trim(package)

    # Then the unused parts are gone, each counted under its reason
    names = _names(package)
    for gone in ("aiohttp/__init__.py", "aiohttp-3.14.5.dist-info/METADATA",
                 "aiohttp_retry/__init__.py", "yarl/__init__.py", "attr/__init__.py",
                 "attrs/__init__.py", "attrs-26.1.0.dist-info/RECORD",
                 "twilio/http/async_http_client.py",
                 "botocore/data/ec2/2016-11-15/service-2.json.gz",
                 "botocore/data/s3/2006-03-01/service-2.json.gz",
                 "phonenumbers/geocoder.py", "phonenumbers/geodata/data0.py",
                 "phonenumbers/carrier.py", "phonenumbers/carrierdata/data0.py", stale):
        assert gone not in names, gone
    # and what the app loads stays: idna too, since requests still needs it
    for kept in ("app.py", "chalicelib/__init__.py", "twilio/__init__.py",
                 "twilio/http/http_client.py", "twilio-9.13.0.dist-info/METADATA",
                 "requests/__init__.py", "idna/__init__.py", "botocore/__init__.py",
                 "botocore/data/endpoints.json", "botocore/data/partitions.json",
                 "botocore/data/dynamodb/2012-08-10/service-2.json.gz",
                 "botocore/data/ssm/2014-11-06/service-2.json.gz",
                 "phonenumbers/timezone.py", "phonenumbers/tzdata/__init__.py",
                 "phonenumbers/data/region_US.py", "phonenumbers/shortdata/region_US.py"):
        assert kept in names, kept
    assert report.zipped_after == package.stat().st_size < report.zipped_before
    assert report.unzipped_before - report.unzipped_after == sum(
        d.unzipped for d in report.dropped.values())
    assert sum(d.files for d in report.dropped.values()) == len(files) - len(names)
    assert len(report.dropped) == 5  # botocore, aiohttp, geocoder, carrier, stale bytecode
    # and a second run changes nothing
    again = trim(package)
    assert not again.dropped and _names(package) == names


def test_package_trim_refuses_to_cut_what_a_kept_library_needs(tmp_path):
    from infra.lambda_package import trim

    files = {"app.py": ""}
    _dist(files, "twilio", "9.13.0", ["aiohttp"], {"twilio/__init__.py": ""})
    _dist(files, "aiohttp", "3.14.5", [], {"aiohttp/__init__.py": ""})
    _dist(files, "slack-sdk", "3.0", ["aiohttp"], {"slack_sdk/__init__.py": ""})
    package = _zip(tmp_path / "deployment.zip", files)
    with pytest.raises(ValueError, match="slack-sdk requires aiohttp"):
        trim(package)
    assert _names(package) == set(files)


def test_package_bytecode_is_added_checked_against_the_source_and_used(tmp_path):
    import zipfile

    from infra.lambda_package import add_bytecode, trim

    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "__init__.py").write_text("VALUE = 42\n")
    package = _zip(tmp_path / "deployment.zip", {"pkg/__init__.py": "VALUE = 42\n"})
    assert add_bytecode(package, source, ["pkg/__init__.py", "not/in/the/zip.py"])[0] == 1
    assert add_bytecode(package, source, ["pkg/__init__.py"])[0] == 0  # already there
    cache = f"pkg/__pycache__/__init__.{sys.implementation.cache_tag}.pyc"
    assert _names(package) == {"pkg/__init__.py", cache}
    pyc = zipfile.ZipFile(package).read(cache)
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, checked (PEP 552)
    assert not trim(package).dropped  # trimming keeps it
    out = tmp_path / "out"
    zipfile.ZipFile(package).extractall(out)
    result = subprocess.run(
        [sys.executable, "-S", "-v", "-c", "import pkg; print(pkg.VALUE)"], cwd=out,
        env={"PYTHONPATH": str(out), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "42"
    assert f"code object from '{out / cache}'" in result.stderr


def _app_sources() -> list[tuple[str, str]]:
    paths = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    return [(str(p.relative_to(ROOT)), p.read_text()) for p in paths]


def test_the_app_calls_only_the_aws_services_whose_models_are_packaged():
    """`make package` keeps botocore's models of these services alone: a client for another
    would fail in Lambda with UnknownServiceError."""
    from infra.lambda_package import KEEP_BOTOCORE_SERVICES

    client = re.compile(r"""\b(?:client|create_client|resource)\(\s*["']([a-z0-9-]+)["']""")
    named = {(path, service) for path, text in _app_sources()
             for service in client.findall(text)}
    assert named, "the SSM client in chalicelib/settings.py is no longer found: fix the pattern"
    assert {s for _, s in named} <= set(KEEP_BOTOCORE_SERVICES), named


def test_the_app_uses_nothing_the_package_leaves_out():
    banned = re.compile(r"phonenumbers\.(geocoder|carrier)\b|from phonenumbers import [^\n]*"
                        r"\b(geocoder|carrier)\b|\baiohttp\b|AsyncTwilioHttpClient|async_http")
    uses = [(path, m.group(0)) for path, text in _app_sources() for m in banned.finditer(text)]
    assert not uses, uses
