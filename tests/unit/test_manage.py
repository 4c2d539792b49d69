"""manage.py on a laptop: the local stack by default, and a sentence instead of a traceback."""

from __future__ import annotations

import json

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


# ---- campaigns, dnc, compliance: through the API ----------------------------------------------
class FakeApi:
    """``manage.call_api`` recorded: ``answers`` maps (method, path) to what the API says (a
    list: one answer per call, in turn; an exception is raised)."""

    def __init__(self, answers: dict):
        self.answers = answers
        self.sent: list[dict] = []

    def __call__(self, method, path, body=None, content_type="application/json", *,
                 base=None, retries=3, raw=False, headers_out=None):
        self.sent.append({"method": method, "path": path, "body": body, "retries": retries,
                          "raw": raw, "base": base})
        answer = self.answers[(method, path)]
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):  # (body, headers)
            answer, headers = answer
            if headers_out is not None:
                headers_out.update(headers)
        return answer


REPORT = {
    "campaign_id": "cmp_AAAAAAAAAAAAAAAA", "name": "November survey", "kind": "predictive",
    "purpose": "informational", "status": "running", "caller_id": "+14155550100",
    "list_id": "cl_AAAAAAAAAAAAAAAA", "abandon_target": 0.03,
    "progress": {
        "contacts": {"by_status": {"waiting": 40, "in_progress": 4, "done": 6},
                     "by_disposition": {"answered": 4, "busy": 2}, "loaded": 50,
                     "load_done": True, "list_size": 50, "list_status": "complete"},
        "live": {"since": "2026-10-24T15:00:00+00:00", "window_hours": 720, "dials": 20,
                 "live_answers": 8, "abandoned": 1, "machine_answers": 5, "texts": 0,
                 "abandon_rate": 0.125, "answer_rate": 0.4, "ringing": 2},
        "pace": {"dial_level": 1.6, "mode": "predictive", "answer_rate": 0.4,
                 "abandon_rate": 0.125, "at": "2026-11-23T15:00:00+00:00"},
        "segments": None}}


def test_campaigns_create_sends_the_file_with_the_flags_on_top_once(tmp_path, monkeypatch,
                                                                    capsys):
    import json

    path = tmp_path / "survey.json"
    path.write_text(json.dumps({"name": "From file", "kind": "agentless", "retries": {
        "busy": {"delay_seconds": 600, "max_attempts": 2}}}))
    api = FakeApi({("POST", "/campaigns"): {"campaign_id": "cmp_AAAAAAAAAAAAAAAA",
                                            "status": "running"}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["campaigns", "create", "--file", str(path), "--list",
                        "cl_AAAAAAAAAAAAAAAA", "--name", "November", "--start"]) == 0
    [sent] = api.sent
    assert json.loads(sent["body"]) == {
        "name": "November", "kind": "agentless", "list_id": "cl_AAAAAAAAAAAAAAAA",
        "retries": {"busy": {"delay_seconds": 600, "max_attempts": 2}}, "start": True}
    assert sent["retries"] == 0  # creating twice would make two campaigns
    assert '"status": "running"' in capsys.readouterr().out


def test_campaigns_create_refuses_a_file_that_is_not_a_json_object(tmp_path, monkeypatch,
                                                                   capsys):
    path = tmp_path / "bad.json"
    path.write_text("[1, 2]")
    monkeypatch.setattr(manage, "call_api", FakeApi({}))
    assert manage.main(["campaigns", "create", "--file", str(path)]) == 1
    assert "not a JSON object" in capsys.readouterr().err


def test_campaigns_show_prints_the_progress(monkeypatch, capsys):
    monkeypatch.setattr(manage, "call_api", FakeApi({
        ("GET", "/campaigns/cmp_AAAAAAAAAAAAAAAA"): REPORT}))
    assert manage.main(["campaigns", "show", "cmp_AAAAAAAAAAAAAAAA"]) == 0
    out = capsys.readouterr().out
    assert "predictive / informational, running" in out
    assert "waiting 40  in_progress 4  done 6" in out
    assert "answered 4  busy 2" in out
    assert "abandoned 1 (12.5% of live answers, target 3.0%)" in out
    assert "answer rate 40.0%" in out
    assert "ringing 2  dial level 1.6 (predictive)" in out


def test_lifecycle_commands_post_the_action_once(monkeypatch, capsys):
    api = FakeApi({("POST", f"/campaigns/cmp_AAAAAAAAAAAAAAAA/{action}"): {
        "campaign_id": "cmp_AAAAAAAAAAAAAAAA", "status": status}
        for action, status in (("start", "running"), ("pause", "paused"),
                               ("resume", "running"), ("stop", "stopped"))})
    monkeypatch.setattr(manage, "call_api", api)
    for action in ("start", "pause", "resume", "stop"):
        assert manage.main(["campaigns", action, "cmp_AAAAAAAAAAAAAAAA"]) == 0
    assert [s["path"].rsplit("/", 1)[1] for s in api.sent] == ["start", "pause", "resume",
                                                                 "stop"]
    assert all(s["retries"] == 0 for s in api.sent)
    assert capsys.readouterr().out.splitlines()[-1] == "cmp_AAAAAAAAAAAAAAAA: stopped"


def test_a_refusal_and_a_silent_api_are_explained(monkeypatch, capsys):
    path = "/campaigns/cmp_AAAAAAAAAAAAAAAA/resume"
    monkeypatch.setattr(manage, "call_api", FakeApi({("POST", path): manage.ApiError(
        409, {"error": "a running campaign cannot resume"})}))
    assert manage.main(["campaigns", "resume", "cmp_AAAAAAAAAAAAAAAA"]) == 1
    assert "409: a running campaign cannot resume" in capsys.readouterr().err
    monkeypatch.setattr(manage, "call_api", FakeApi({("GET", "/campaigns"): OSError("refused")}))
    assert manage.main(["campaigns", "list"]) == 2
    assert "make run" in capsys.readouterr().err


def test_recycle_asks_again_while_the_api_says_more(monkeypatch, capsys):
    import json

    path = "/campaigns/cmp_AAAAAAAAAAAAAAAA/recycle"
    api = FakeApi({("POST", path): [{"recycled": 2000, "more": True},
                                    {"recycled": 15, "more": False}]})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["campaigns", "recycle", "cmp_AAAAAAAAAAAAAAAA", "busy",
                        "no_answer"]) == 0
    assert len(api.sent) == 2
    assert json.loads(api.sent[0]["body"]) == {"dispositions": ["busy", "no_answer"]}
    assert "2015 contact(s)" in capsys.readouterr().out


def test_results_are_written_as_the_api_sent_them(tmp_path, monkeypatch, capsys):
    csv = "phone,name\r\n+14155550001,Ada\r\n+14155550002,李雷\r\n".encode()
    api = FakeApi({("GET", "/campaigns/cmp_AAAAAAAAAAAAAAAA/results"): csv})
    monkeypatch.setattr(manage, "call_api", api)
    out = tmp_path / "results.csv"
    assert manage.main(["campaigns", "results", "cmp_AAAAAAAAAAAAAAAA", "-o", str(out)]) == 0
    assert out.read_bytes() == csv and api.sent[0]["raw"] is True
    assert "2 contact(s)" in capsys.readouterr().err


def test_dnc_and_compliance_commands(monkeypatch, capsys):
    import json
    from urllib.parse import parse_qs, urlsplit

    api = FakeApi({("POST", "/dnc"): {"number": "+14155550123"},
                   ("DELETE", "/dnc/%2B14155550123"): {"removed": 1}})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["dnc", "add", "+14155550123", "--channel", "sms", "--reason",
                        "asked"]) == 0
    assert json.loads(api.sent[0]["body"]) == {"number": "+14155550123", "channel": "sms",
                                               "reason": "asked"}
    assert manage.main(["dnc", "remove", "+14155550123"]) == 0  # "+" must travel encoded

    def check(method, path, body=None, content_type=None, *, base=None, retries=3, raw=False):
        query = parse_qs(urlsplit(path).query)
        assert urlsplit(path).path == "/compliance/check" and base == "http://api.test"
        assert query == {"number": ["+14155550123"], "channel": ["voice"],
                         "purpose": ["marketing"]}
        return {"allowed": False, "reasons": ["no_consent"], "next_allowed_at": None}

    monkeypatch.setattr(manage, "call_api", check)
    assert manage.main(["compliance", "check", "+14155550123", "--channel", "voice",
                        "--purpose", "marketing", "--api", "http://api.test"]) == 0
    assert '"no_consent"' in capsys.readouterr().out


def test_call_api_gives_bytes_or_json_and_names_the_apis_error():
    """The real ``call_api`` against a stand-in API on this machine."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Api(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path == "/csv":
                body, kind, status = b"phone\r\n+14155550001\r\n", "text/csv", 200
            else:
                body, kind, status = json.dumps({"error": "no campaign"}).encode(), \
                    "application/json", 404
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert manage.call_api("GET", "/csv", base=base, raw=True) == \
            b"phone\r\n+14155550001\r\n"
        try:
            manage.call_api("GET", "/campaigns/cmp_x", base=base)
        except manage.ApiError as exc:
            assert (exc.status, exc.body) == (404, {"error": "no campaign"})
        else:
            raise AssertionError("a 404 must raise ApiError")
    finally:
        server.shutdown()
        server.server_close()


def test_agents_join_and_leave_a_campaign_and_are_created_from_a_file(tmp_path, monkeypatch,
                                                                      capsys):
    seats = "/campaigns/cmp_AAAAAAAAAAAAAAAA/seats"
    api = FakeApi({("POST", seats): {"state": "connecting"},
                   ("DELETE", seats + "/ag-bo"): {"agent_id": "ag-bo"},
                   ("GET", seats): {"seats": []},
                   ("POST", "/agents"): [{"agent_id": "ag-1"}, manage.ApiError(409, {})]})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["campaigns", "join", "cmp_AAAAAAAAAAAAAAAA", "ag-al", "ag-bo"]) == 0
    assert [json.loads(s["body"]) for s in api.sent] == [{"agent_id": "ag-al"},
                                                          {"agent_id": "ag-bo"}]
    assert all(s["retries"] == 0 for s in api.sent)  # a join places a call: never twice
    assert manage.main(["campaigns", "leave", "cmp_AAAAAAAAAAAAAAAA", "ag-bo"]) == 0
    assert manage.main(["campaigns", "seats", "cmp_AAAAAAAAAAAAAAAA"]) == 0
    agents = tmp_path / "agents.json"
    agents.write_text(json.dumps([{"agent_id": "ag-1"}, {"agent_id": "ag-2"}]))
    assert manage.main(["agents", "add", str(agents)]) == 0
    out = capsys.readouterr().out
    assert "ag-al: connecting" in out and "ag-1: created" in out and "ag-2: exists" in out


def test_an_agents_calls_move_to_the_browser_desk_and_back(monkeypatch, capsys):
    agent = {"agent_id": "ag-alice", "name": "Alice", "state": "offline", "calls_today": 3,
             "endpoint": {"kind": "phone", "address": "+14155550161"},
             "skills": {"billing": 7}, "queues": {"support": 1}, "languages": ["en-US"],
             "regions": [], "wrap_up_seconds": 20, "mobile": None, "timezone": "UTC"}
    api = FakeApi({("GET", "/agents/ag-alice"): agent,
                   ("PUT", "/agents/ag-alice"): [
                       {**agent, "endpoint": {"kind": "client", "address": "ag-alice"}},
                       {**agent, "endpoint": {"kind": "phone", "address": "+14155550199"}}]})
    monkeypatch.setattr(manage, "call_api", api)
    assert manage.main(["agents", "endpoint", "ag-alice", "client"]) == 0
    put = json.loads(api.sent[1]["body"])
    assert put["endpoint"] == {"kind": "client", "address": "ag-alice"}
    assert "state" not in put and "calls_today" not in put and "mobile" not in put
    assert put["skills"] == {"billing": 7} and api.sent[1]["retries"] == 0
    assert manage.main(["agents", "endpoint", "ag-alice", "phone:+14155550199"]) == 0
    assert "calls ring client:ag-alice" in capsys.readouterr().out
    assert manage.main(["agents", "endpoint", "ag-alice", "phone"]) == 2
