"""Alembic's entry point for the acoustic-lab schema: online migrations only.

Schema changes connect to PostgreSQL directly (``MIGRATION_DATABASE_URL``), not through
PgBouncer: a pool in transaction mode may hand one migration's statements to different server
connections. ``DATABASE_URL`` is the fallback when no direct URL is given.

Several app hosts may deploy at once: a PostgreSQL advisory lock lets one migrate at a time, and
the next then finds the schema current and does nothing.
"""

import os

from alembic import context
from sqlalchemy import create_engine, pool, text

# Any number will do, as long as nothing else in this database takes the same advisory lock.
MIGRATION_LOCK = 0x61636F75


def database_url():
    url = os.environ.get("MIGRATION_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("migrations: neither MIGRATION_DATABASE_URL nor DATABASE_URL is set")
    # The app speaks libpq URLs; SQLAlchemy names its driver in the scheme.
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def run_migrations():
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Held by the session until it ends, so across the migrations' own transactions.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
