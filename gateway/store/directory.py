"""The directory of the state apparatus, modelled on Popolo (https://www.popoloproject.com/specs/):

- `OrgUnit` (Popolo Organization): a body or a part of one, in a tree (`parent_id`);
- `Post` (Popolo Post): a position in a unit, which reports to another post; each unit has one head post,
  the top of the unit's reporting chain (`is_head`, derived on import);
- `Official` (Popolo Person): a person, the post they hold now (`post_id`, None once they have left) and,
  denormalised from that post, `org_unit_id` and `post_title` (authorization and receipts read those);
- `Membership` (Popolo Membership): who held which post from when to when; the open one (no `end_date`) is
  the current post;
- `OfficialTopic`: an official's areas of responsibility, which appeal routing matches against;
- `System` and `SystemAgency`: the systems that talk to the gateway and the units they serve.

Rows are written by gateway.directory.service (DirectoryUpdate documents, the demo world) and read by
gateway.store.registry (authorization) and gateway.directory.service.load_snapshot (routing).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class OrgUnit(Base):
    __tablename__ = "org_units"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    # e.g. village-council, district-committee, regional-committee, ministry, department,
    # presidential-administration
    kind: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    reports_to_post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id"), index=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)


class Official(Base):
    __tablename__ = "officials"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    post_title: Mapped[str] = mapped_column(String(300), default="")
    # The unit of the current post (of the last one, once the official has left: then post_id is None).
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    post_id: Mapped[str | None] = mapped_column(ForeignKey("posts.id"), index=True)
    authority: Mapped[str | None] = mapped_column(Text)
    duties: Mapped[str | None] = mapped_column(Text)
    contacts: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # email, phone, address
    biography: Mapped[str | None] = mapped_column(Text)


class OfficialTopic(Base):
    """An area of responsibility of an official, e.g. "housing"."""

    __tablename__ = "official_topics"
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Membership(Base):
    """An official held a post in a unit from start_date to end_date (inclusive; None: still does)."""

    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id"), index=True)
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class System(Base):
    """A registered information system: the national portal or an agency's DMS. Its seal's UID is its id."""

    __tablename__ = "systems"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))  # portal | dms
    document_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    endpoint_url: Mapped[str | None] = mapped_column(String(1000))
    # How the outbox reaches it: http (POST the signed XML), soap (the DMS's ReceiveStatusUpdate operation),
    # none (no push: it pulls GET /api/v1/outbox). gateway.delivery names a deliverer per kind.
    delivery: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    # As the origin of appeals, also receive the officials' own signed AppealReply and AppealStatusChange
    # (opt-in: a receiver built for StatusUpdates only would refuse them).
    forward_documents: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SystemAgency(Base):
    """A system serves an org unit and everything under it."""

    __tablename__ = "system_agencies"
    system_id: Mapped[str] = mapped_column(ForeignKey("systems.id"), primary_key=True)
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
