#!/usr/bin/env python3
"""Switchboard's operator commands (run from the repository root, in the venv).

    python manage.py flows lint [--dir flows]      validate every flow; exit 1 on any error
    python manage.py flows publish [FLOW ...]      lint, then publish new immutable versions
    python manage.py flows versions FLOW           list a flow's published versions
    python manage.py flows bundle                  lint, then compile flows into chalicelib/
    python manage.py tables create                 create this stage's tables (local/test)

Storage commands use the same settings as the app (TABLE_PREFIX, DYNAMODB_ENDPOINT, AWS_*).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
FLOWS_DIR = ROOT / "flows"


def _lint(flows_dir: Path):
    from chalicelib.ivr.lint import lint_flows
    from chalicelib.ivr.loader import load_flows

    errors = lint_flows(flows_dir)
    for err in errors:
        print(err, file=sys.stderr)
    if errors:
        print(f"{len(errors)} error(s): nothing was published or bundled", file=sys.stderr)
        return None
    flows, _ = load_flows(flows_dir)
    return flows


def cmd_flows_lint(args) -> int:
    flows = _lint(Path(args.dir))
    if flows is None:
        return 1
    print(f"{len(flows)} flow(s) OK: {', '.join(sorted(flows))}")
    return 0


def cmd_flows_publish(args) -> int:
    flows = _lint(Path(args.dir))
    if flows is None:
        return 1
    from chalicelib.store import flows as store

    wanted = args.flow or sorted(flows)
    unknown = [f for f in wanted if f not in flows]
    if unknown:
        print(f"unknown flow(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    for flow_id in wanted:
        version, created = store.publish(flows[flow_id], published_by=args.by)
        print(f"{flow_id}: v{version} {'published' if created else 'unchanged (already live)'}")
    return 0


def cmd_flows_versions(args) -> int:
    from chalicelib.store import flows as store

    for item in store.list_versions(args.flow):
        print(f"v{item.version}\t{item.published_at:%Y-%m-%d %H:%M:%S}Z\t{item.published_by}"
              f"\t{item.checksum[:12]}")
    return 0


def cmd_flows_bundle(args) -> int:
    flows = _lint(Path(args.dir))
    if flows is None:
        return 1
    from chalicelib.ivr.bundle import write_bundle

    for path in write_bundle(flows):
        print(f"bundled {path.relative_to(ROOT)}")
    return 0


def cmd_tables_create(args) -> int:
    from chalicelib.store.tables import create_tables

    created = create_tables()
    print(f"created: {', '.join(created)}" if created else "tables already exist")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="group", required=True)

    flows = sub.add_parser("flows", help="lint, publish and bundle IVR flows").add_subparsers(
        dest="command", required=True
    )
    lint = flows.add_parser("lint", help="validate every flow")
    lint.set_defaults(func=cmd_flows_lint)
    publish = flows.add_parser("publish", help="publish new versions to DynamoDB")
    publish.add_argument("flow", nargs="*")
    publish.add_argument("--by", default="cli", help="who published (kept with the version)")
    publish.set_defaults(func=cmd_flows_publish)
    versions = flows.add_parser("versions", help="list published versions")
    versions.add_argument("flow")
    versions.set_defaults(func=cmd_flows_versions)
    bundle = flows.add_parser("bundle", help="compile flows into the Lambda package")
    bundle.set_defaults(func=cmd_flows_bundle)
    for p in (lint, publish, bundle):
        p.add_argument("--dir", default=str(FLOWS_DIR), help="flows directory")

    tables = sub.add_parser("tables").add_subparsers(dest="command", required=True)
    tables.add_parser("create", help="create missing tables").set_defaults(func=cmd_tables_create)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
