"""Table contracts of the warehouse (docs/contracts-tables.md) as DDL."""

from __future__ import annotations

ENTERPRISE_COLUMNS: dict[str, str] = {
    # unique by construction (validation rejects duplicates; loads delete before insert):
    # a PRIMARY KEY index would double the cost of every bulk insert
    "uscc": "VARCHAR NOT NULL",
    "name": "VARCHAR NOT NULL",
    "region_code": "VARCHAR NOT NULL",
    "industry_code": "VARCHAR",
    "established": "DATE",
    "deregistered": "DATE",
    "registered_capital": "DOUBLE",
    "revenue": "DOUBLE",
    "employees": "BIGINT",
    "business_scope": "VARCHAR",
    "products": "VARCHAR",
    "tags": "VARCHAR",
    "synthetic": "BOOLEAN NOT NULL",
    # derived at load, for roll-ups without a join
    "province_code": "VARCHAR NOT NULL",
    "city_code": "VARCHAR",
}

LINK_COLUMNS: dict[str, str] = {
    "supplier_uscc": "VARCHAR NOT NULL",
    "customer_uscc": "VARCHAR NOT NULL",
    "amount": "DOUBLE",
    "year": "INTEGER",
    "product": "VARCHAR",
}

ASSIGNMENT_COLUMNS: dict[str, str] = {
    "uscc": "VARCHAR NOT NULL",
    "chain_id": "VARCHAR NOT NULL",
    "node_id": "VARCHAR NOT NULL",
    "score": "DOUBLE NOT NULL",
    "method": "VARCHAR NOT NULL",
    "evidence": "VARCHAR",
    # derived at build: rank by registered capital among active firms of the node, nationally
    "national_rank": "BIGINT",
}

REGION_COLUMNS: dict[str, str] = {
    "region_code": "VARCHAR PRIMARY KEY",
    "name": "VARCHAR NOT NULL",
    "level": "VARCHAR NOT NULL",
    "parent_code": "VARCHAR",
    "province_code": "VARCHAR NOT NULL",
    "city_code": "VARCHAR",
    "lon": "DOUBLE",
    "lat": "DOUBLE",
    "coord_inherited": "BOOLEAN",
}

CONTRACTS: dict[str, dict[str, str]] = {
    "enterprises": ENTERPRISE_COLUMNS,
    "supply_links": LINK_COLUMNS,
    "assignments": ASSIGNMENT_COLUMNS,
    "regions": REGION_COLUMNS,
}


def create_sql(name: str) -> str:
    cols = ", ".join(f"{c} {t}" for c, t in CONTRACTS[name].items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"
