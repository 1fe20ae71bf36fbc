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
rows above the last id seen" could skip it for good. So each run first takes a barrier: a SHARE lock on each
source table in turn (it waits for the writers in flight and holds new ones off for one statement) while it
reads the table's highest id; every row at or below it is then committed or never will be. SQLite has one
writer at a time, so its ids are already in commit order. One process extends the log at a time (_turn);
the others return at once.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, Select, and_, func, insert, select, text, tuple_, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from gateway.domain.transparency import entries, merkle
from gateway.store.appeals import OutboxMessage
from gateway.store.database import writing
from gateway.store.models import DEMO_SIGNER_KIND, Message, RejectedDocument
from gateway.store.transparency import LogCheckpoint, LogHead, LogLeaf, LogNode
from gateway.xml import ns
from gateway.xml.compose import Composer, xml_time
from gateway.xml.parsing import parse_document
from gateway.xml.signatures import Signer

# Leaves appended per write transaction: on SQLite it holds the one write lock, so a backlog (the first run
# after the upgrade that made the log) goes in slices rather than stalling submissions.
CHUNK = 500
# The most a worker appends in one run: ~3 s, so that a backlog (the first run after the upgrade that made
# the log) goes in slices between deliveries; `zvarot log checkpoint` appends it all at once.
TICK_LEAVES = 50_000
# The most a proof request may name at once (get-entries in RFC 9162's terms).
MAX_ENTRIES = 1000
# PostgreSQL's barrier: how long a SHARE lock request may wait for the writers in flight (submissions queue
# behind it meanwhile), and how many times, before the run gives up until the next.
BARRIER_WAIT_MS = 100
BARRIER_ATTEMPTS = 5
# The advisory lock of the one process extending the log (PostgreSQL): "zvarotlg" as a 64-bit integer.
TURN_KEY = int.from_bytes(b"zvarotlg", "big")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    document: bytes


@dataclass(frozen=True)
class Source:
    """A table whose rows become entries: its name in log_leaves, its column in log_head, which rows count,
    and how a row reads as an entry."""

    name: str
    head_column: str
    id_column: InstrumentedAttribute
    logged: tuple  # WHERE clauses: the rows that are entries
    columns: tuple[InstrumentedAttribute, ...]
    entry: Callable[..., str]

    def read(self, session: Session, after: int, upto: int, limit: int) -> list[tuple[int, str]]:
        """(id, entry) of the rows in (after, upto], in id order, at most `limit`."""
        rows = session.execute(
            select(self.id_column, *self.columns)
            .where(self.id_column > after, self.id_column <= upto, *self.logged)
            .order_by(self.id_column)
            .limit(limit)
        )
        return [(row[0], self.entry(*row[1:])) for row in rows]

    def highest(self) -> Select:
        return select(func.coalesce(func.max(self.id_column), 0))

    def waiting(self, session: Session, after: int) -> int:
        return session.scalar(select(func.count()).where(self.id_column > after, *self.logged)) or 0


def _received(sha256: str, receipt: bytes) -> str:
    return entries.received(sha256, bytes(receipt))


def _sent(document: bytes) -> str:
    return entries.sent(bytes(document))


SOURCES = (
    # The demo history was never received: it is not evidence.
    Source(
        "messages",
        "last_message_id",
        Message.id,
        (Message.signer_kind != DEMO_SIGNER_KIND,),
        (Message.sha256, Message.receipt),
        _received,
    ),
    # A refusal that could not be read as XML got a problem document, not a signed receipt: nothing to log.
    Source(
        "rejected_documents",
        "last_rejection_id",
        RejectedDocument.id,
        (RejectedDocument.receipt.is_not(None),),
        (RejectedDocument.sha256, RejectedDocument.receipt),
        _received,
    ),
    Source("outbox", "last_outbox_id", OutboxMessage.id, (), (OutboxMessage.document,), _sent),
)


@dataclass(frozen=True)
class Held:
    """What the holder of a document the gateway gave it can ask the log by: the entry rebuilt from the bytes,
    and where the gateway keeps the document (a receipt's ReceiptId, any other document's AppealId)."""

    entry: str
    receipt_id: str | None = None
    appeal_id: str | None = None

    @property
    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.entry.encode("ascii"))


def held(document: bytes) -> Held:
    """The entry of a document the gateway gave its holder, byte for byte as received: a Receipt's
    "received" entry, any other document's (a StatusUpdate, an official's reply forwarded) "sent" entry.
    Rejection for bytes that are not a readable document; ValueError for a receipt without a SHA-256."""
    root = parse_document(document)
    body = "zv:Body/zv:"
    if root.tag != ns.zv("Receipt"):
        return Held(entries.sent(document), appeal_id=root.findtext(body + "AppealId", namespaces=ns.NSMAP))
    submission = root.findtext(body + "SubmissionSha256", namespaces=ns.NSMAP) or ""
    receipt_id = root.findtext(body + "ReceiptId", namespaces=ns.NSMAP)
    return Held(entries.received(submission, document), receipt_id=receipt_id)


@dataclass(frozen=True)
class Inclusion:
    """Where a document's entry is: its index under `checkpoint` and the audit path to its root, or why not
    (index None: not in the log; index >= the checkpoint's size: appended after it)."""

    entry: str
    leaf_hash: bytes
    index: int | None
    checkpoint: Checkpoint | None
    audit_path: tuple[bytes, ...] = ()

    @property
    def proven(self) -> bool:
        return (
            self.index is not None
            and self.checkpoint is not None
            and self.index < self.checkpoint.tree_size
            and merkle.verify_inclusion(
                self.leaf_hash,
                self.index,
                self.checkpoint.tree_size,
                self.audit_path,
                self.checkpoint.root_hash,
            )
        )


class LogBusy(Exception):
    """Another process is extending the log: this run has nothing to do."""


class LogHeldBack(LogBusy):
    """A writer held a source table past the barrier's patience: the next run tries again. Worth a line in
    the log when it lasts (an idle transaction left open holds the log back for good)."""


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
        with self._turn():
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

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """One process extends the log at a time; the others return at once (LogBusy) rather than take the
        barrier for nothing. PostgreSQL: a session advisory lock, on a connection held for the run (it ends
        with the connection if the process dies). SQLite: an flock beside the database file."""
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect() as conn:
                if not conn.scalar(select(func.pg_try_advisory_lock(TURN_KEY))):
                    raise LogBusy("another process is extending the log")
                conn.commit()
                try:
                    yield
                finally:
                    try:
                        conn.execute(select(func.pg_advisory_unlock(TURN_KEY)))
                        conn.commit()
                    except DBAPIError:
                        # The session is gone (and its lock with it) or in a state we cannot know: never
                        # hand it back to the pool, and keep the run's own outcome.
                        conn.invalidate()
            return
        database = self._engine.url.database
        if not database or database == ":memory:":
            yield
            return
        turn = os.open(database + ".loglock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LogBusy("another process is extending the log") from None
            yield
        finally:
            os.close(turn)  # and with it the flock

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
        if self._engine.dialect.name != "postgresql":
            with self._sessions() as session:
                return {source.name: session.scalar(source.highest()) for source in SOURCES}
        # One table per short transaction (each table's guarantee stands on its own), each lock waited for
        # only briefly: while our SHARE request waits, the submissions' inserts queue behind it.
        upto = {}
        for source in SOURCES:
            for attempt in range(BARRIER_ATTEMPTS):
                try:
                    with self._sessions.begin() as session:
                        session.execute(text(f"SET LOCAL lock_timeout = '{BARRIER_WAIT_MS}ms'"))
                        session.execute(text(f"LOCK TABLE {source.name} IN SHARE MODE"))
                        upto[source.name] = session.scalar(source.highest())
                    break
                except DBAPIError as exc:
                    if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                        raise
                    if attempt + 1 < BARRIER_ATTEMPTS:
                        time.sleep(0.1 * (attempt + 1))
            else:
                raise LogHeldBack(
                    f"a transaction kept writing {source.name} through {BARRIER_ATTEMPTS} waits of "
                    f"{BARRIER_WAIT_MS} ms (an idle transaction left open?)"
                )
        return upto

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
                if last[source.name] >= upto[source.name]:
                    continue  # read up to this run's barrier already: the head never moves back
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
            if leaves:  # Core's executemany: the ORM's bulk path cost twice the time under the write lock
                connection = session.connection()
                connection.execute(insert(LogLeaf.__table__), leaves)
                connection.execute(insert(LogNode.__table__), nodes)
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
        with self._sessions() as session:  # the common idle run: nothing to sign, no write lock taken
            size = self._head(session).tree_size
            if size == 0 or session.get(LogCheckpoint, size) is not None:
                return None
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

    # --- the operator's own audit -----------------------------------------------------------------------

    def check_against_evidence(self, session: Session, limit: int = 20) -> tuple[int, list[str]]:
        """Rebuild the log from the stored evidence and compare: each entry with the row it stands for, each
        leaf and stored node with the hashes recomputed, each checkpoint's root with the rebuilt tree's, and
        every row the head has passed with an entry. What an outside auditor cannot see (they hold hashes,
        not the rows): a document, receipt or StatusUpdate edited in the database after it was logged.
        Returns (entries checked, problems found, at most `limit`)."""
        problems: list[str] = []

        def problem(text: str) -> None:
            if len(problems) < limit:
                problems.append(text)

        by_name = {source.name: source for source in SOURCES}
        checkpoints = {
            size: (bytes(root), bytes(document))
            for size, root, document in session.execute(
                select(LogCheckpoint.tree_size, LogCheckpoint.root_hash, LogCheckpoint.document)
            )
        }
        frontier: list[bytes] = []
        size = 0
        counted = {source.name: 0 for source in SOURCES}
        while True:
            leaves = session.execute(
                select(LogLeaf.position, LogLeaf.source, LogLeaf.source_id, LogLeaf.entry, LogLeaf.leaf_hash)
                .where(LogLeaf.position >= size)
                .order_by(LogLeaf.position)
                .limit(CHUNK)
            ).all()
            if not leaves:
                break
            expected: dict[tuple[int, int], bytes] = {}
            rows = {}
            for name in {leaf.source for leaf in leaves} & by_name.keys():
                source = by_name[name]
                ids = [leaf.source_id for leaf in leaves if leaf.source == name]
                found = session.execute(
                    select(source.id_column, *source.columns).where(source.id_column.in_(ids))
                )
                rows.update({(name, row[0]): source.entry(*row[1:]) for row in found})
            for leaf in leaves:
                if leaf.position != size:
                    problem(f"entry {size} is missing (the next is {leaf.position})")
                    return size, problems
                counted[leaf.source] = counted.get(leaf.source, 0) + 1
                evidence = rows.get((leaf.source, leaf.source_id))
                if evidence is None:
                    problem(f"entry {size}: its row {leaf.source} {leaf.source_id} is gone")
                elif evidence != leaf.entry:
                    problem(f"entry {size}: {leaf.source} {leaf.source_id} no longer matches it (edited)")
                recomputed = merkle.leaf_hash(leaf.entry.encode("utf-8"))
                if bytes(leaf.leaf_hash) != recomputed:
                    problem(f"entry {size}: its stored leaf hash is not the hash of its text")
                frontier, completed = merkle.append(frontier, size, recomputed)
                expected.update({(level, index): node for level, index, node in completed})
                size += 1
                if size in checkpoints:
                    root, document = checkpoints[size]
                    rebuilt = merkle.root(frontier)
                    if root != rebuilt or f"<RootHash>{rebuilt.hex()}</RootHash>".encode() not in document:
                        problem(f"the checkpoint of {size} entries does not sign the rebuilt tree's root")
            stored = _nodes(session, set(expected), partial=True)
            for key in sorted(key for key, node in expected.items() if stored.get(key) != node):
                problem(f"the stored tree node {key} (level, index) is not the rebuilt one")
        head = session.get(LogHead, 1)
        if head is not None:
            if head.tree_size != size or b"".join(frontier) != bytes(head.frontier):
                problem(f"the head says {head.tree_size} entries; {size} rebuild it")
            last = _HeadState.of(head).last
            for source in SOURCES:
                rows_passed = session.scalar(
                    select(func.count()).where(source.id_column <= last[source.name], *source.logged)
                )
                if rows_passed != counted[source.name]:
                    problem(
                        f"{source.name}: {rows_passed} rows up to id {last[source.name]}, "
                        f"{counted[source.name]} entries for them"
                    )
        for missing in sorted(set(checkpoints) - set(range(1, size + 1))):
            problem(f"a checkpoint of {missing} entries is beyond the log's {size}")
        return size, problems

    # --- reading ------------------------------------------------------------------------------------------

    @staticmethod
    def waiting(session: Session) -> int:
        """Rows committed but not yet appended: what the next run will add (an alert when it only grows)."""
        head = session.get(LogHead, 1)
        last = {source.name: 0 for source in SOURCES} if head is None else _HeadState.of(head).last
        return sum(source.waiting(session, last[source.name]) for source in SOURCES)

    @staticmethod
    def size(session: Session) -> int:
        head = session.get(LogHead, 1)
        return 0 if head is None else head.tree_size

    def latest(self, session: Session) -> Checkpoint | None:
        row = session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(1)).first()
        return _checkpoint(row)

    def checkpoint(self, session: Session, tree_size: int) -> Checkpoint | None:
        return _checkpoint(session.get(LogCheckpoint, tree_size))

    def position(
        self, session: Session, leaf_hash: bytes, receipt_id: str | None = None, appeal_id: str | None = None
    ) -> int | None:
        """The first position of the entry with this leaf hash, found through the document's own key (its
        receipt id, or the appeal it is about): the leaf hashes are random, and an index on them would cost
        every append a random page (measured: 5.6 times the appending's write-lock time on SQLite)."""
        keyed = []
        if receipt_id:
            keyed += [(table, table.receipt_id == receipt_id) for table in (Message, RejectedDocument)]
        if appeal_id:
            keyed.append((OutboxMessage, OutboxMessage.appeal_id == appeal_id))
        found = [
            session.scalar(
                select(func.min(LogLeaf.position))
                .join(table, and_(LogLeaf.source == table.__tablename__, LogLeaf.source_id == table.id))
                .where(key, LogLeaf.leaf_hash == leaf_hash)
            )
            for table, key in keyed
        ]
        return min((p for p in found if p is not None), default=None)

    def locate(self, session: Session, document: bytes) -> Inclusion:
        """A document's entry under the newest checkpoint (Rejection, ValueError: see held)."""
        holding = held(document)
        leaf = holding.leaf_hash
        index = self.position(session, leaf, holding.receipt_id, holding.appeal_id)
        checkpoint = self.latest(session)
        if index is None or checkpoint is None or index >= checkpoint.tree_size:
            return Inclusion(holding.entry, leaf, index, checkpoint)
        path = tuple(self.inclusion_proof(session, index, checkpoint.tree_size))
        return Inclusion(holding.entry, leaf, index, checkpoint, path)

    def recent(self, session: Session, count: int) -> list[Checkpoint]:
        rows = session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.tree_size.desc()).limit(count))
        return [_checkpoint(row) for row in rows]

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


def _nodes(
    session: Session, keys: set[tuple[int, int]], partial: bool = False
) -> dict[tuple[int, int], bytes]:
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
    if missing and not partial:
        raise LookupError(f"the log's tree lacks {len(missing)} stored node(s), e.g. {min(missing)}")
    return found


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
