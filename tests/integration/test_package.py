"""`make package` builds a Lambda bundle that carries everything the runtime reads, and nothing
the app never loads (``infra/lambda_package.py``)."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.lambda_package import KEEP_BABEL_LOCALES

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> tuple[Path, str, str]:
    """What `make package` does: bundle the flows, `chalice package`, then trim, add bytecode
    and check the zip alone. (zip, Chalice's output, the build's report)"""
    out = tmp_path_factory.mktemp("package") / "out"
    subprocess.run([sys.executable, "manage.py", "flows", "bundle"], cwd=ROOT, check=True,
                   capture_output=True)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    chalice = Path(sys.executable).parent / "chalice"
    result = subprocess.run([str(chalice), "package", "--stage", "dev", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    zip_path = out / "deployment.zip"
    built = subprocess.run([sys.executable, "-m", "infra.lambda_package", "build", str(zip_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    return zip_path, (out / "sam.json").read_text(), built.stdout


def test_chalice_package_contains_flows_templates_and_dependencies(package):
    zip_path, sam, _ = package
    names = set(zipfile.ZipFile(zip_path).namelist())
    # The app, the bundled flows with their templates, the system prompts and the runtime
    # libraries are all inside; the dev tools are not
    assert "app.py" in names
    assert "chalicelib/ivr/bundled/main.json" in names
    assert "chalicelib/ivr/bundled/billing.json" in names
    assert "chalicelib/templates/en-US/fallback_voicemail.j2" in names
    assert "chalicelib/templates/zh-CN/unknown_number.j2" in names
    assert "chalicelib/callbacks/widget/widget.js" in names  # served by GET /callbacks/widget.js
    assert "chalicelib/callbacks/widget/preview.html" in names
    for package in ("twilio/", "pynamodb/", "botocore/", "jinja2/", "yaml/", "phonenumbers/",
                    "tzdata/", "aws_lambda_powertools/", "babel/"):
        assert any(n.startswith(package) for n in names), package
    assert "chalice/app.py" in names, "Chalice adds its own runtime"
    assert not any(n.startswith(("chalice/cli/", "pytest/", "cfnlint/", "flows/", "boto3/"))
                   for n in names)
    assert "TWILIO_AUTH_TOKEN" not in sam, "secrets come from SSM, never from the package"


def test_package_is_trimmed_precompiled_and_runs_alone(package):
    zip_path, _, report = package
    names = set(zipfile.ZipFile(zip_path).namelist())
    # Nothing the app never loads: other AWS services' models, phonenumbers' geocoder and
    # carrier data, twilio's asyncio stack
    services = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and
                n.count("/") > 2}
    assert services == {"dynamodb", "ssm", "sts", "cognito-idp"}
    assert not any(n.startswith(("phonenumbers/geodata/", "phonenumbers/carrierdata/",
                                 "aiohttp/", "aiohttp_retry/", "yarl/", "multidict/",
                                 "frozenlist/")) for n in names)
    assert "phonenumbers/tzdata/__init__.py" in names  # chalicelib.callbacks.timing reads it
    # Babel's data for the locales Switchboard speaks (and their parents), no other
    locales = {n.removeprefix("babel/locale-data/").removesuffix(".dat") for n in names
               if n.startswith("babel/locale-data/") and n.endswith(".dat")}
    assert locales == set(KEEP_BABEL_LOCALES)
    assert "babel/global.dat" in names
    # The modules a cold start loads come compiled (Lambda cannot write bytecode)
    tag = sys.implementation.cache_tag
    for module in ("app", "chalicelib/ivr/service", "chalicelib/telephony/webhooks",
                   "pynamodb/models", "botocore/client", "twilio/twiml/voice_response"):
        head, _, tail = module.rpartition("/")
        assert f"{head + '/' if head else ''}__pycache__/{tail}.{tag}.pyc" in names, module
    # and the build imported it alone, with those contents (`python -S`)
    assert "checked alone" in report and ": ok:" in report, report
    assert zip_path.stat().st_size <= 20 * MB, report
