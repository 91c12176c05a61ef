"""scale-out: dialer nodes (heartbeats), campaign pacing leases, dial grants, account holds

Several `dialer run` processes share one PostgreSQL (docs/scale-out.md): each publishes a
heartbeat in `dialer_nodes`, one node at a time paces a campaign (`campaign_leases`), it hands dial
slots to the nodes (`dial_grants`), and a node's hopper holds the accounts it is deciding
(`accounts.held_by/held_until`, claimed with FOR UPDATE SKIP LOCKED).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("held_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "dialer_nodes",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("asterisk_server", sa.String(length=80), nullable=False),
        sa.Column("channel_limit", sa.Integer(), nullable=False),
        sa.Column("live_calls", sa.Integer(), nullable=False),
        sa.Column("free_agents", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_dialer_nodes")),
    )
    op.create_table(
        "campaign_leases",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_campaign_leases_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_leases")),
    )
    op.create_table(
        "dial_grants",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=80), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_dial_grants_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("campaign_id", "node", name=op.f("pk_dial_grants")),
    )


def downgrade() -> None:
    op.drop_table("dial_grants")
    op.drop_table("campaign_leases")
    op.drop_table("dialer_nodes")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("held_until")
        batch_op.drop_column("held_by")
