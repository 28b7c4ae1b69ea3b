"""Persistence: SQLAlchemy 2 tables, queries and Alembic migrations. Knows no HTTP."""
