"""The transparency log: what lets an auditor check that the gateway's record was never rewritten.

Every receipt the gateway issues (for an accepted or a rejected submission) and every document it sends a
system (StatusUpdates) becomes an entry (gateway.domain.transparency.entries) of an append-only Merkle tree
(RFC 9162's, gateway.domain.transparency.merkle). Now and then the gateway signs a LogCheckpoint: the size of
the log and its root hash, under the same key and profile as its receipts, so `xmlsec1` verifies it. From
then on the gateway cannot drop, change or reorder an entry without every later checkpoint contradicting the
earlier ones (a consistency proof fails), and whoever holds a receipt can have it proven to be in the log (an
inclusion proof). docs/transparency.md tells auditors how.

Entries are appended after the fact, by `TransparencyLog.extend` (in `zvarot worker`, and `zvarot log
checkpoint`), never on the submission's path: the receipt is the gateway's promise to log it, kept within
the worker's interval. Where the log may have missed a row is the one hard part: on PostgreSQL, ids come
from sequences and a transaction that took a lower id can commit after one that took a higher; reading "the
rows above the last id seen" could skip it for good. So each run first takes a barrier: SHARE locks on the
source tables (they wait for the writers in flight and hold new ones off for one statement) while it reads
their highest ids; every row at or below those ids is then committed or never will be. SQLite has one writer
at a time, so its ids are already in commit order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select, text, tuple_, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.transparency import entries, merkle
from gateway.store.appeals import OutboxMessage
from gateway.store.database import writing
from gateway.store.models import DEMO_SIGNER_KIND, Message, RejectedDocument
from gateway.store.transparency import LogCheckpoint, LogHead, LogLeaf, LogNode
from gateway.xml.compose import Composer
from gateway.xml.signatures import Signer

# Leaves appended per write transaction: on SQLite it holds the one write lock, so a backlog (the first run
# after the upgrade that made the log) goes in slices rather than stalling submissions.
CHUNK = 2000
# The most a proof request may name at once (get-entries in RFC 9162's terms).
MAX_ENTRIES = 1000


def _utcnow() -> datetime:
    return datetime.now(UTC)


def xml_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    document: bytes


@dataclass(frozen=True)
class Source:
    """A table whose rows become entries: its name in log_leaves, its head column, and how a row reads."""

    name: str
    head_column: str
    id_column: object
    read: Callable[[Session, int, int, int], list[tuple[int, str]]]


def _messages(session: Session, after: int, upto: int, limit: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Message.id, Message.sha256, Message.receipt)
        .where(Message.id > after, Message.id <= upto, Message.signer_kind != DEMO_SIGNER_KIND)
        .order_by(Message.id)
        .limit(limit)
    )
    return [(row_id, entries.received(sha256, bytes(receipt))) for row_id, sha256, receipt in rows]


def _rejections(session: Session, after: int, upto: int, limit: int) -> list[tuple[int, str]]:
    # A refusal that could not be read as XML got a problem document, not a signed receipt: nothing to log.
    r = RejectedDocument
    rows = session.execute(
        select(r.id, r.sha256, r.receipt)
        .where(r.id > after, r.id <= upto, r.receipt.is_not(None))
        .order_by(r.id)
        .limit(limit)
    )
    return [(row_id, entries.received(sha256, bytes(receipt))) for row_id, sha256, receipt in rows]


def _outbox(session: Session, after: int, upto: int, limit: int) -> list[tuple[int, str]]:
    o = OutboxMessage
    rows = session.execute(
        select(o.id, o.document).where(o.id > after, o.id <= upto).order_by(o.id).limit(limit)
    )
    return [(row_id, entries.sent(bytes(document))) for row_id, document in rows]


SOURCES = (
    Source("messages", "last_message_id", Message.id, _messages),
    Source("rejected_documents", "last_rejection_id", RejectedDocument.id, _rejections),
    Source("outbox", "last_outbox_id", OutboxMessage.id, _outbox),
)


class LogBusy(Exception):
    """Another process is extending the log, or a writer held the barrier too long: try at the next run."""


class TransparencyLog:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        signer: Signer,
        origin: str,
        clock: Callable[[], datetime] = _utcnow,
    ):
        self._sessions = sessions
        self._signer = signer
        self.origin = origin
        self._clock = clock

    @property
    def _engine(self) -> Engine:
        return self._sessions.kw["bind"]

    # --- extending ----------------------------------------------------------------------------------------

    def extend(self, max_leaves: int | None = None) -> Checkpoint | None:
        """Append every row committed since the last run (at most `max_leaves`), then sign a checkpoint of the
        new size. None when there was nothing new to sign. LogBusy when another process is at it."""
        self._ensure_head()
        upto = self._barrier()
        appended = 0
        while max_leaves is None or appended < max_leaves:
            budget = CHUNK if max_leaves is None else min(CHUNK, max_leaves - appended)
            added = self._append_chunk(upto, budget)
            if added is None:
                break
            appended += added
        # Also signs a size that an interrupted run appended but did not sign.
        return self._sign_head()

    def _ensure_head(self) -> None:
        """The head row, made by migration 0016; made again here for a database whose tables were emptied
        (the test suite's), which only holds if the log itself is empty."""
        with self._sessions() as session:
            if session.get(LogHead, 1) is not None:
                return
        with writing(self._sessions) as session:
            if session.get(LogHead, 1) is None:
                if session.scalar(select(func.count()).select_from(LogLeaf)):
                    raise LookupError("the log has entries but no head row: restore it from a backup")
                session.add(
                    LogHead(
                        id=1,
                        tree_size=0,
                        frontier=b"",
                        last_message_id=0,
                        last_rejection_id=0,
                        last_outbox_id=0,
                    )
                )
                try:
                    session.commit()
                except IntegrityError:
                    raise LogBusy("another process made the head row") from None

    def _barrier(self) -> dict[str, int]:
        """The highest id of each source table below which every row is committed (see the module's doc)."""
        highest = [
            select(func.coalesce(func.max(source.id_column), 0)).scalar_subquery() for source in SOURCES
        ]
        if self._engine.dialect.name != "postgresql":
            with self._sessions() as session:
                values = session.execute(select(*highest)).one()
        else:
            try:
                with self._sessions.begin() as session:
                    # Writers hold their row-exclusive lock a few milliseconds; one that holds it longer is
                    # not waited for (the next run tries again), so submissions queue behind us no longer.
                    session.execute(text("SET LOCAL lock_timeout = '2s'"))
                    tables = ", ".join(source.name for source in SOURCES)
                    session.execute(text(f"LOCK TABLE {tables} IN SHARE MODE"))  # noqa: S608 - our names
                    values = session.execute(select(*highest)).one()
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                    raise LogBusy("a writer held a source table past the lock timeout") from None
                raise
        return {source.name: int(value) for source, value in zip(SOURCES, values, strict=True)}

    def _append_chunk(self, upto: dict[str, int], budget: int) -> int | None:
        """Read up to `budget` new rows (outside the write lock: reading and hashing receipts is the bulk of
        the work), then append them in one short write transaction if nobody extended the log meanwhile.
        Returns how many leaves it appended, None when there was nothing left to read."""
        with self._sessions() as session:
            start = _HeadState.of(self._head(session))
            batch: list[tuple[str, int, str]] = []
            last = dict(start.last)
            for source in SOURCES:
                room = budget - len(batch)
                if room <= 0:
                    break
                rows = source.read(session, last[source.name], upto[source.name], room)
                batch.extend((source.name, row_id, entry) for row_id, entry in rows)
                # A read that did not fill the room reached `upto`: rows it passed over (the demo history,
                # refusals without a receipt) are behind the head too.
                last[source.name] = upto[source.name] if len(rows) < room else rows[-1][0]
        if last == start.last:
            return None
        frontier, size = list(start.frontier), start.tree_size
        leaves, nodes = [], []
        for name, row_id, entry in batch:
            leaf = merkle.leaf_hash(entry.encode("ascii"))
            leaves.append(
                {"position": size, "source": name, "source_id": row_id, "entry": entry, "leaf_hash": leaf}
            )
            frontier, completed = merkle.append(frontier, size, leaf)
            nodes.extend({"level": lv, "index": ix, "hash": h} for lv, ix, h in completed)
            size += 1
        with writing(self._sessions) as session:
            if _HeadState.of(self._head(session, lock=True)) != start:
                raise LogBusy("another process extended the log meanwhile")
            if leaves:
                session.execute(insert(LogLeaf), leaves)
                session.execute(insert(LogNode), nodes)
            session.execute(
                update(LogHead)
                .where(LogHead.id == 1)
                .values(
                    tree_size=size,
                    frontier=b"".join(frontier),
                    **{source.head_column: last[source.name] for source in SOURCES},
                )
            )
            session.commit()
        return len(leaves)

    def _head(self, session: Session, lock: bool = False) -> LogHead:
        """The log's head row (made by migration 0016), locked for the transaction where `lock`."""
        query = select(LogHead).where(LogHead.id == 1)
        if lock and self._engine.dialect.name == "postgresql":
            query = query.with_for_update(nowait=True)
        try:
            return session.execute(query).scalar_one()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "55P03":
                raise LogBusy("another process is extending the log") from None
            raise

    def _sign_head(self) -> Checkpoint | None:
        with writing(self._sessions) as session:
            head = self._head(session, lock=True)
            size = head.tree_size
            if size == 0 or session.get(LogCheckpoint, size) is not None:
                return None
            root = merkle.root(_split(head.frontier))
            now = self._clock()
            document = self._signer.sign_canonical(self._compose(size, root, now))
            session.add(LogCheckpoint(tree_size=size, root_hash=root, issued_at=now, document=document))
            session.commit()
        return Checkpoint(size, root, now, document)

    def _compose(self, size: int, root: bytes, now: datetime) -> bytes:
        doc = Composer("LogCheckpoint").open("Header")
        doc.leaf("MessageId", str(uuid.uuid4())).leaf("SenderSystem", self.origin).leaf(
            "SentAt", xml_time(now)
        )
        doc.close().open("Body").leaf("Origin", self.origin).leaf("TreeSize", str(size))
        doc.leaf("RootHash", root.hex())
        return doc.canonical()

    # --- reading ------------------------------------------------------------------------------------------

    def latest(self, session: Session) -> Checkpoint | None:
        row = session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(1)).first()
        return _checkpoint(row)

    def checkpoint(self, session: Session, tree_size: int) -> Checkpoint | None:
        return _checkpoint(session.get(LogCheckpoint, tree_size))

    def leaf_index(self, session: Session, leaf_hash: bytes) -> int | None:
        """The first position of that leaf (one StatusUpdate sent to two systems is two equal entries)."""
        return session.scalar(select(func.min(LogLeaf.position)).where(LogLeaf.leaf_hash == leaf_hash))

    def inclusion_proof(self, session: Session, index: int, tree_size: int) -> list[bytes]:
        return _prove(session, lambda reader: merkle.inclusion_proof(index, tree_size, reader))

    def consistency_proof(self, session: Session, first: int, second: int) -> list[bytes]:
        return _prove(session, lambda reader: merkle.consistency_proof(first, second, reader))

    def entries(self, session: Session, start: int, end: int) -> list[tuple[int, str, bytes]]:
        """Entries [start, end) in log order, at most MAX_ENTRIES: (index, entry, leaf hash)."""
        end = min(end, start + MAX_ENTRIES)
        rows = session.execute(
            select(LogLeaf.position, LogLeaf.entry, LogLeaf.leaf_hash)
            .where(LogLeaf.position >= start, LogLeaf.position < end)
            .order_by(LogLeaf.position)
        )
        return [(position, entry, bytes(leaf)) for position, entry, leaf in rows]


@dataclass(frozen=True)
class _HeadState:
    tree_size: int
    frontier: tuple[bytes, ...]
    last: dict[str, int]

    @classmethod
    def of(cls, head: LogHead) -> _HeadState:
        return cls(
            head.tree_size,
            tuple(_split(head.frontier)),
            {source.name: getattr(head, source.head_column) for source in SOURCES},
        )


def _split(frontier: bytes) -> list[bytes]:
    return [bytes(frontier[i : i + 32]) for i in range(0, len(frontier), 32)]


def _checkpoint(row: LogCheckpoint | None) -> Checkpoint | None:
    if row is None:
        return None
    issued = row.issued_at if row.issued_at.tzinfo else row.issued_at.replace(tzinfo=UTC)
    return Checkpoint(row.tree_size, bytes(row.root_hash), issued, bytes(row.document))


def _prove(session: Session, compute: Callable[[merkle.HashReader], list[bytes]]) -> list[bytes]:
    """Run a prover twice: once to learn which stored nodes it reads, then on those, fetched in one query."""
    keys = merkle.reads(compute)
    stored = _nodes(session, keys)
    return compute(lambda level, index: stored[(level, index)])


def _nodes(session: Session, keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    ordered = sorted(keys)
    for chunk in _chunks(ordered, 500):
        rows = session.execute(
            select(LogNode.level, LogNode.index, LogNode.hash).where(
                tuple_(LogNode.level, LogNode.index).in_(chunk)
            )
        )
        found.update({(level, index): bytes(h) for level, index, h in rows})
    missing = set(keys) - found.keys()
    if missing:
        raise LookupError(f"the log's tree lacks {len(missing)} stored node(s), e.g. {min(missing)}")
    return found


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
