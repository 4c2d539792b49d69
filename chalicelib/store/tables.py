"""Create this stage's tables idempotently (local stack and tests; AWS uses CloudFormation)."""

from __future__ import annotations

from pynamodb.connection import Connection

from chalicelib.store.models import ALL_MODELS


def create_tables(wait: bool = True) -> list[str]:
    """Create each missing table with on-demand billing and TTL; return the names created."""
    created = []
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)
            created.append(model.Meta.table_name)
        ttl = model._ttl_attribute()
        if ttl is not None:
            _enable_ttl(model, ttl.attr_name)
    return created


def _enable_ttl(model, attr_name: str) -> None:
    conn = Connection(region=model.Meta.region, host=model.Meta.host)
    client = conn.client
    status = client.describe_time_to_live(TableName=model.Meta.table_name)
    if status["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=model.Meta.table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": attr_name},
    )

