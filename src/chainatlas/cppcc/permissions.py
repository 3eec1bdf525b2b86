"""Who may see and change CPPCC records, through the one table of `workflow.access`.

A CPPCC record may be about several chains (a meeting, a duty record) and handled by several
units (a submission); it presents one `Target` per chain and per handling unit, each naming
the record's owner (the member's account), and the actor may act when any one of them
allows it. `visible` is the SQL form of the same rule for list queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from chainatlas.workflow.access import (
    Action,
    Actor,
    Kind,
    NotAllowed,
    Scope,
    Target,
    may,
    scopes,
)


def targets(
    kind: Kind,
    *,
    chain_ids: Iterable[str | None] = (),
    unit_ids: Iterable[int] = (),
    owner_id: int | None = None,
) -> list[Target]:
    """The targets a record presents: one per chain and per unit (at least one)."""
    found = [Target(kind, chain_id=c, owner_id=owner_id) for c in chain_ids if c]
    found += [Target(kind, unit_id=u, owner_id=owner_id) for u in unit_ids]
    return found or [Target(kind, owner_id=owner_id)]


def may_any(actor: Actor, action: Action, found: Sequence[Target]) -> bool:
    return any(may(actor, action, t) for t in found)


def require_any(actor: Actor, action: Action, found: Sequence[Target]) -> None:
    if not may_any(actor, action, found):
        raise NotAllowed(actor, action, found[0])


def visible(
    actor: Actor,
    kind: Kind,
    *,
    chain: Any = None,
    unit: Any = None,
    owner: Any = None,
) -> ColumnElement[bool]:
    """A WHERE clause for the records of `kind` the actor may see. `chain`, `unit` and
    `owner` build the clause for a scope from the actor's chain ids, unit ids and user id
    (None: the kind has no such link)."""
    allowed = scopes(actor, kind, Action.view)
    if Scope.any in allowed:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if Scope.chain in allowed and chain is not None and actor.chain_ids:
        clauses.append(chain(sorted(actor.chain_ids)))
    if Scope.unit in allowed and unit is not None and actor.unit_ids:
        clauses.append(unit(sorted(actor.unit_ids)))
    if Scope.own in allowed and owner is not None and actor.user_id is not None:
        clauses.append(owner(actor.user_id))
    return or_(*clauses) if clauses else false()
