"""manage.py on a laptop: the local stack by default, and a sentence instead of a traceback."""

from __future__ import annotations

from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from pynamodb.exceptions import ScanError

import manage


def test_the_local_stack_is_the_default_and_needs_nothing_exported():
    env: dict = {}
    manage.settle_environment(env)
    assert env == {"DYNAMODB_ENDPOINT": "http://127.0.0.1:8001", "AWS_ACCESS_KEY_ID": "local",
                   "AWS_SECRET_ACCESS_KEY": "local"}


def test_a_deployed_stage_or_a_remote_endpoint_is_left_as_configured():
    deployed = {"SWITCHBOARD_STAGE": "prod"}
    manage.settle_environment(deployed)
    assert deployed == {"SWITCHBOARD_STAGE": "prod"}
    remote = {"DYNAMODB_ENDPOINT": "https://dynamodb.eu-west-1.amazonaws.com"}
    manage.settle_environment(remote)
    assert "AWS_ACCESS_KEY_ID" not in remote


def test_missing_credentials_and_a_silent_endpoint_are_explained():
    no_credentials = ScanError("Failed to scan table", NoCredentialsError())
    assert "no AWS credentials" in manage.explain_storage_error(no_credentials)
    silent = ScanError("Failed", EndpointConnectionError(endpoint_url="http://127.0.0.1:8001"))
    assert "make run" in manage.explain_storage_error(silent)
    assert manage.explain_storage_error(ValueError("a bug")) is None
