"""Persistence: SQLAlchemy 2 tables, queries and Alembic migrations. Knows no HTTP."""

# Tables defined outside tables.py register with the same metadata when the package loads.
from legation.storage import users as _users  # noqa: F401
