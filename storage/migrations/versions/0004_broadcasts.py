"""broadcasts (återkoppling) and their outbox copies

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("campaign_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(500)),
        sa.Column("image", sa.String(500)),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("fallbacks", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("audience_size", sa.Integer()),
    )
    op.create_index("ix_broadcasts_campaign_id", "broadcasts", ["campaign_id"])
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("broadcast_id", BigId))
        batch_op.add_column(sa.Column("language", sa.String(16)))
        batch_op.create_index(
            "ix_outbox_broadcast", ["broadcast_id", "channel", "recipient_key"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_broadcast")
        batch_op.drop_column("language")
        batch_op.drop_column("broadcast_id")
    op.drop_index("ix_broadcasts_campaign_id", table_name="broadcasts")
    op.drop_table("broadcasts")
