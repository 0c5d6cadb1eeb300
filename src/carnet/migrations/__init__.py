"""Alembic migrations: the schema on SQLite and PostgreSQL."""
