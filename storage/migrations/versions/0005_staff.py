"""staff dashboard: users, sessions, login throttle, free-text tags, an answers index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.Column("last_seen_at", When, nullable=False),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", When, nullable=False),
        sa.Column("locked_until", When),
    )
    op.create_table(
        "answer_tags",
        sa.Column("respondent_id", sa.String(32), primary_key=True),
        sa.Column("question_id", sa.String(40), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_index("ix_answer_tags_tag", "answer_tags", ["tag"])
    op.create_index("ix_answers_question_answered", "answers", ["question_id", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_answers_question_answered", table_name="answers")
    op.drop_index("ix_answer_tags_tag", table_name="answer_tags")
    op.drop_table("answer_tags")
    op.drop_table("login_throttle")
    op.drop_index("ix_staff_sessions_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
