"""Reading what ``chalicelib.observability`` prints in json mode: log lines and EMF objects."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager


class Output:
    """stdout since the last ``read``, split into JSON log lines and EMF metric objects."""

    def __init__(self, capsys):
        self.capsys = capsys
        self.text, self.logs, self.emf = "", [], []

    def read(self) -> Output:
        self.text = self.capsys.readouterr().out
        lines = [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]
        self.logs = [line for line in lines if "_aws" not in line]
        self.emf = [line for line in lines if "_aws" in line]
        return self

    def metric(self, name: str) -> list[dict]:
        """Every EMF object that carries ``name``."""
        return [blob for blob in self.emf
                if any(m["Name"] == name for d in blob["_aws"]["CloudWatchMetrics"]
                       for m in d["Metrics"])]

    def total(self, name: str) -> float:
        return sum(sum(blob[name]) for blob in self.metric(name))


@contextmanager
def json_output(capsys, caplog, stage: str = "test"):
    """JSON logs and EMF metrics on, as in Lambda; the suite's own setting again afterwards."""
    from chalicelib import observability

    caplog.set_level(logging.INFO, logger="chalicelib")  # as app.py sets it
    previous = (observability._state.log_format, observability._state.stage)
    observability.setup_logging(log_format="json", stage=stage)
    observability.discard_metrics()
    capsys.readouterr()
    try:
        yield Output(capsys)
    finally:
        observability.discard_metrics()
        observability.setup_logging(log_format=previous[0], stage=previous[1])
