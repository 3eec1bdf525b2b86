"""The SQL form of `access.may_view`: list queries return exactly the rows the actor may
see (the tests compare the two)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from chainatlas.workflow.access import Action, Actor, Kind, Scope, scopes


def visible(actor: Actor, kind: Kind, chain_column: Any, unit_column: Any) -> ColumnElement[bool]:
    allowed = scopes(actor, kind, Action.view)
    if Scope.any in allowed:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if Scope.chain in allowed and actor.chain_ids:
        clauses.append(chain_column.in_(sorted(actor.chain_ids)))
    if Scope.unit in allowed and actor.unit_ids and unit_column is not None:
        clauses.append(unit_column.in_(sorted(actor.unit_ids)))
    return or_(*clauses) if clauses else false()
