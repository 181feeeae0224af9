"""Site-wide counters, such as the page views the index page shows.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE TABLE site_counters ( name text PRIMARY KEY, value bigint NOT NULL DEFAULT 0)"
    )


def downgrade():
    op.execute("DROP TABLE site_counters")
