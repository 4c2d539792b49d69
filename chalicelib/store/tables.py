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
        else:
            _add_missing_indexes(model)
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


def _add_missing_indexes(model) -> None:
    """Add GSIs a model gained since its table was made (a laptop keeps its tables across
    upgrades; AWS gets them from CloudFormation). One index per update, as DynamoDB requires."""
    client = Connection(region=model.Meta.region, host=model.Meta.host).client
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    existing = {gsi["IndexName"] for gsi in table.get("GlobalSecondaryIndexes", [])}
    for gsi in model._get_schema()["global_secondary_indexes"]:
        if gsi["index_name"] in existing:
            continue
        client.update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=gsi["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": gsi["index_name"],
                "KeySchema": sorted(gsi["key_schema"], key=lambda k: k["KeyType"] != "HASH"),
                "Projection": gsi["projection"],
            }}],
        )
