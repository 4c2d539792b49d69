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


def test_lists_import_sends_the_file_in_numbered_chunks_and_marks_the_last(tmp_path, monkeypatch,
                                                                          capsys):
    path = tmp_path / "list.csv"
    path.write_text("phone,name\n" + "".join(f"+1415555{i:04d},N{i}\n" for i in range(100)))
    sent = []

    def fake_api(method, url, body, content_type, *, base=None, retries=3):
        sent.append((method, url, body))
        if url == "/contact-lists":
            return {"list_id": "cl_AAAAAAAAAAAAAAAA"}
        return {"chunk": {}, "list": {"list_id": "cl_AAAAAAAAAAAAAAAA", "received": 100,
                                      "accepted": 100, "rejected": 0, "duplicates": 0}}

    monkeypatch.setattr(manage, "call_api", fake_api)
    assert manage.main(["lists", "import", str(path), "--name", "Nov", "--chunk-bytes",
                        "600"]) == 0
    chunks = [(url, body) for _, url, body in sent[1:]]
    assert len(chunks) >= 3 and all(len(body) <= 600 for _, body in chunks)
    assert [url.split("?")[1] for url, _ in chunks] == [
        f"chunk={n}" for n in range(len(chunks) - 1)] + [f"chunk={len(chunks) - 1}&last=true"]
    assert all(body.startswith(b"phone,name\n") for _, body in chunks)
    out = capsys.readouterr()
    assert '"accepted": 100' in out.out and "100%" in out.err


def test_the_progress_bar():
    assert manage.progress_bar(0, 10) == "[------------------------------]   0%  0.0/0.0 kB"
    assert manage.progress_bar(5_000_000, 10_000_000, width=10).startswith("[#####-----]  50%")
