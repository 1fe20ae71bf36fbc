"""Identifiers the gateway makes for what it keeps (appeals, receipts): unguessable, and in creation order.

A random key lands on a random page of its index. On PostgreSQL every page is logged whole (a full-page
image, 8 KiB) the first time it changes after a checkpoint, so with four random-key indexes an appeal wrote
32.0 KiB of WAL right after a checkpoint against 24.1 with these ids (the first 500 appeals after it, 20,000
stored), a gap that grows with the indexes; the pages the checkpointer must write lie all over them. Ids
that begin with the time are appended at the end of their indexes instead, as serial keys are. What must
stay random does: the citizen's tracking code, and the senders' own message ids are theirs.
"""

from __future__ import annotations

import re
import secrets
import time

# The 32 characters of lowercase base32 (a-z, 2-7), in ASCII order, so that ids compare as their numbers do.
SORTABLE_BASE32 = "234567abcdefghijklmnopqrstuvwxyz"
ID_CHARACTERS = 26  # 130 bits
TIME_BITS = 48  # milliseconds since 1970: until the year 10889
RANDOM_BITS = ID_CHARACTERS * 5 - TIME_BITS  # 82: unguessable even to someone who knows the millisecond


def sortable_id(prefix: str, now_ms: int | None = None) -> str:
    """`prefix` and 26 characters of [a-z2-7]: the time in milliseconds (48 bits), then 82 random bits. Ids
    made later compare greater (from one millisecond to the next; within one, in random order)."""
    moment = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    value = (moment % (1 << TIME_BITS)) << RANDOM_BITS | secrets.randbits(RANDOM_BITS)
    characters = []
    for _ in range(ID_CHARACTERS):
        value, digit = divmod(value, 32)
        characters.append(SORTABLE_BASE32[digit])
    return prefix + "".join(reversed(characters))


# Rows are numbered by INTEGER columns: 32-bit on PostgreSQL (64-bit on SQLite). A larger number from a client
# names no row, and the database would refuse it ("integer out of range", OverflowError) with a 500 instead.
MAX_ROW_NUMBER = (1 << 31) - 1
# ASCII digits only: str.isdigit() also takes "²" and "٣", which int() then refuses.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")


def whole_number(text: str) -> int | None:
    """A cursor, page number or offset as a client wrote it: ASCII digits up to MAX_ROW_NUMBER, else None."""
    if not _WHOLE_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ROW_NUMBER else None


def is_row_number(value: object) -> bool:
    """A cursor as a JSON client sent it: an integer (not a boolean) from 0 to MAX_ROW_NUMBER."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ROW_NUMBER
