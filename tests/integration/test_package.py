"""`chalice package` builds a Lambda bundle that carries everything the runtime reads."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_chalice_package_contains_flows_templates_and_dependencies(tmp_path):
    # Given the flows compiled into chalicelib/ (what `make package` and `make deploy` do)
    subprocess.run([sys.executable, "manage.py", "flows", "bundle"], cwd=ROOT, check=True,
                   capture_output=True)
    # When Chalice packages the dev stage
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    chalice = Path(sys.executable).parent / "chalice"
    result = subprocess.run([str(chalice), "package", "--stage", "dev", str(tmp_path / "out")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    names = set(zipfile.ZipFile(tmp_path / "out" / "deployment.zip").namelist())
    # Then the app, the bundled flows with their templates, the system prompts and the
    # runtime libraries are all inside; the dev tools are not
    assert "app.py" in names
    assert "chalicelib/ivr/bundled/main.json" in names
    assert "chalicelib/ivr/bundled/billing.json" in names
    assert "chalicelib/templates/en-US/fallback_voicemail.j2" in names
    assert "chalicelib/templates/zh-CN/unknown_number.j2" in names
    assert "chalicelib/callbacks/widget/widget.js" in names  # served by GET /callbacks/widget.js
    assert "chalicelib/callbacks/widget/preview.html" in names
    for package in ("twilio/", "pynamodb/", "jinja2/", "yaml/", "phonenumbers/", "tzdata/",
                    "aws_lambda_powertools/"):
        assert any(n.startswith(package) for n in names), package
    assert "chalice/app.py" in names, "Chalice adds its own runtime"
    assert not any(n.startswith(("chalice/cli/", "pytest/", "cfnlint/", "flows/")) for n in names)
    sam = (tmp_path / "out" / "sam.json").read_text()
    assert "TWILIO_AUTH_TOKEN" not in sam, "secrets come from SSM, never from the package"
