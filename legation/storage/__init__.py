"""Persistence: SQLAlchemy 2 tables, queries and Alembic migrations. Knows no HTTP.

Table modules outside tables.py are imported here so that they register with the same metadata
and Alembic and the tests see them.
"""

from legation.storage import screening as screening
from legation.storage import users as users
