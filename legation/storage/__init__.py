"""Persistence: SQLAlchemy 2 tables, queries and Alembic migrations. Knows no HTTP.

Table modules are imported here so that Alembic and the tests see them.
"""

from legation.storage import screening as screening
