"""INSERTs compiled once per table and dialect, for the rows every accepted document writes.

Statement compilation and cache-key generation were a third of an accepted document's storage cost, and ORM
flushes cost more than the rest of an appeal's storage. The SQL and the value conversions here are exactly
what SQLAlchemy would use (the compiled statement, TypeEngine.bind_processor); only the per-call work is gone.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import DateTime, Dialect, Table, bindparam
from sqlalchemy.exc import DBAPIError


def driver_error(dialect: Dialect, sql: str, exc: Exception) -> DBAPIError:
    """The driver's exception wrapped as SQLAlchemy would have wrapped it (IntegrityError, DataError,
    OperationalError, ...), so callers handle one family of errors whichever path wrote the row."""
    return DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect)


def _processor(column, dialect: Dialect) -> Callable | None:
    """The column's bind processor; for a datetime, one that remembers its last value: an appeal's outbox rows
    carry the same datetime object one after another, which SQLite's processor would format anew (~1.7 µs)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not isinstance(column.type, DateTime):
        return process
    memo = [(None, None)]  # (value, processed), replaced whole: safe between threads

    def remembered(value):
        seen, processed = memo[0]
        if value is not seen:  # datetimes are immutable: the same object formats the same
            processed = process(value)
            memo[0] = (value, processed)
        return processed

    return remembered


class PreparedInsert:
    def __init__(
        self,
        table: Table,
        dialect: Dialect,
        columns: Sequence[str] | None = None,
        returning: str | None = None,
    ):
        chosen = (
            [table.c[name] for name in columns]
            if columns is not None
            else [c for c in table.columns if not (c.primary_key and c.autoincrement is True)]
        )
        statement = table.insert().values({c.name: bindparam(c.name) for c in chosen})
        if returning:
            statement = statement.returning(table.c[returning])
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.order = compiled.positiontup  # None for named paramstyles
        processors = {c.name: _processor(c, dialect) for c in chosen}
        names = tuple(self.order or processors)  # in the order the driver takes them
        self._values = operator.itemgetter(*names)
        # (position, processor) of the few columns that have one (dates, JSON, bytes); the rest pass as is.
        self._processed = tuple((i, processors[name]) for i, name in enumerate(names) if processors[name])
        self._names = names if not self.order else None  # a named paramstyle takes a dict
        self._single = len(names) == 1
        self.returning = returning
        self._dialect = dialect

    def _params(self, values: dict):
        row = self._values(values)
        row = [row] if self._single else list(row)
        for i, process in self._processed:
            row[i] = process(row[i])
        return dict(zip(self._names, row, strict=True)) if self._names else row

    def execute(self, dbapi_connection, values: dict):
        """One row, on a cursor of the DBAPI connection (in the caller's transaction); returns the
        `returning` column's value, if one was asked for. (SQLAlchemy's Connection.exec_driver_sql cost
        three times the driver's own work here.)"""
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self.sql, self._params(values))
            return cursor.fetchone()[0] if self.returning else None
        except self._dialect.loaded_dbapi.Error as exc:
            raise driver_error(self._dialect, self.sql, exc) from exc
        finally:
            cursor.close()

    def execute_many(self, dbapi_connection, rows: Iterable[dict]) -> None:
        params = [self._params(values) for values in rows]
        if params:
            cursor = dbapi_connection.cursor()
            try:
                cursor.executemany(self.sql, params)
            except self._dialect.loaded_dbapi.Error as exc:
                raise driver_error(self._dialect, self.sql, exc) from exc
            finally:
                cursor.close()


class PreparedInserts:
    """One PreparedInsert per (table, columns, returning) and dialect, built on first use."""

    def __init__(self, dialect: Dialect):
        self._dialect = dialect
        self._built: dict[tuple, PreparedInsert] = {}

    def __call__(
        self, table: Table, columns: Sequence[str] | None = None, returning: str | None = None
    ) -> PreparedInsert:
        key = (table.name, tuple(columns) if columns is not None else None, returning)
        prepared = self._built.get(key)
        if prepared is None:
            prepared = self._built[key] = PreparedInsert(table, self._dialect, columns, returning)
        return prepared
