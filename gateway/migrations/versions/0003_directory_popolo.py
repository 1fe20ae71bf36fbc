"""Directory modelled on Popolo: unit kinds, posts, memberships, officials' profiles and topics

Officials keep `org_unit_id` (now the unit of their current post) and gain `post_id`, authority, duties,
contacts and biography; posts, memberships and areas of responsibility get tables of their own. Existing
officials have no post until a DirectoryUpdate (or the demo seed) gives them one.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))

    op.create_table(
        "posts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("org_unit_id", sa.String(length=64), nullable=False),
        sa.Column("reports_to_post_id", sa.String(length=64), nullable=True),
        sa.Column("is_head", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"]),
        sa.ForeignKeyConstraint(["reports_to_post_id"], ["posts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posts_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_posts_reports_to_post_id"), ["reports_to_post_id"], unique=False)

    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("post_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("authority", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("duties", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("contacts", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("biography", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_officials_post_id"), ["post_id"], unique=False)
        batch_op.create_foreign_key("fk_officials_post_id_posts", "posts", ["post_id"], ["id"])

    op.create_table(
        "official_topics",
        sa.Column("official_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["official_id"], ["officials.id"]),
        sa.PrimaryKeyConstraint("official_id", "topic"),
    )
    with op.batch_alter_table("official_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_official_topics_topic"), ["topic"], unique=False)

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("official_id", sa.String(length=64), nullable=False),
        sa.Column("post_id", sa.String(length=64), nullable=False),
        sa.Column("org_unit_id", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["official_id"], ["officials.id"]),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_official_id"), ["official_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_post_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_org_unit_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_official_id"))
    op.drop_table("memberships")

    with op.batch_alter_table("official_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_topics_topic"))
    op.drop_table("official_topics")

    with op.batch_alter_table("officials", schema=None) as batch_op:
        batch_op.drop_constraint("fk_officials_post_id_posts", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_officials_post_id"))
        batch_op.drop_column("biography")
        batch_op.drop_column("contacts")
        batch_op.drop_column("duties")
        batch_op.drop_column("authority")
        batch_op.drop_column("post_id")

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posts_reports_to_post_id"))
        batch_op.drop_index(batch_op.f("ix_posts_org_unit_id"))
    op.drop_table("posts")

    if op.get_bind().dialect.name == "sqlite":
        # Not batch mode: it would copy org_units and drop the original, which SQLite refuses (foreign keys
        # are on) while officials and system agencies refer to it. SQLite >= 3.35 drops plain columns itself.
        op.execute("ALTER TABLE org_units DROP COLUMN description")
        op.execute("ALTER TABLE org_units DROP COLUMN kind")
    else:
        op.drop_column("org_units", "description")
        op.drop_column("org_units", "kind")
