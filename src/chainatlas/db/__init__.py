"""The app database (DESIGN §4, §7): users, roles, audit log, marks and jobs now; the
chain-chief and CPPCC workflows later. SQLAlchemy 2 + Alembic; SQLite by default,
PostgreSQL in deployment."""
