"""Flows shipped inside the Lambda package, as seeds.

Chalice packages only ``chalicelib/``, so ``manage.py flows bundle`` (run by ``make package`` and
``make deploy``) lints ``flows/`` and writes each compiled flow here as JSON. At run time a flow
that was never published is published from its bundled copy on first use, so a fresh deploy
answers calls at once; after that, ``manage.py flows publish`` makes new versions without a deploy.
"""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.ivr.model import Flow

BUNDLE_DIR = Path(__file__).parent / "bundled"


def load_bundled(flow_id: str, bundle_dir: Path = BUNDLE_DIR) -> Flow | None:
    path = bundle_dir / f"{flow_id}.json"
    if not path.is_file():
        return None
    return Flow.from_document(json.loads(path.read_text(encoding="utf-8")))


def write_bundle(flows: dict[str, Flow], bundle_dir: Path = BUNDLE_DIR) -> list[Path]:
    bundle_dir.mkdir(parents=True, exist_ok=True)
    for stale in bundle_dir.glob("*.json"):
        if stale.stem not in flows:
            stale.unlink()
    written = []
    for flow_id, flow in sorted(flows.items()):
        path = bundle_dir / f"{flow_id}.json"
        path.write_text(
            json.dumps(flow.to_document(), ensure_ascii=False, sort_keys=True, indent=1),
            encoding="utf-8",
        )
        written.append(path)
    return written
