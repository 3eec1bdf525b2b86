"""The chain-chief system (链长制, DESIGN §1, J5; issue #6): organisation (chain chiefs,
chain offices, member units and their users), the projects pipeline (招商项目), enterprise
cases (企业诉求/堵点/难题), review meetings (调度会) and KPIs.

Services take a SQLAlchemy `Session`, an `Actor` (who acts, see `access`) and plain values,
and return model objects. Every change is checked against the access rules, guarded by
optimistic locking (`version` columns) and written to the audit log in the same
transaction. Nothing here imports the web app or the CLI.
"""
