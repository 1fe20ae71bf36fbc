"""Merkle trees of RFC 9162 section 2.1 (Certificate Transparency v2, the hashing of RFC 6962), SHA-256 only:
tree heads, inclusion and consistency proofs, and their verification, for a tamper-evident append-only log.

Storage model: every perfect, aligned subtree is stored once it is complete, as node (level, index) over the
leaves [index * 2**level, (index + 1) * 2**level); level 0 holds the leaf hashes. The ragged right edge of a
tree is never stored: its hashes are computed from perfect nodes, so a stored node never changes. Callers read
nodes through a `HashReader`.

The provers' control flow depends on sizes and indices only, never on hash values: `reads` lists the nodes a
proof needs, the caller fetches them in one query, then computes the proof from them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias

HashReader: TypeAlias = Callable[[int, int], bytes]
"""hash_at(level, index) -> the stored node over leaves [index * 2**level, (index + 1) * 2**level)."""

HASH_SIZE = 32

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256(): the head of a tree of size 0."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d); the prefix differs from node_hash's so that no entry can pass for an
    interior node (second preimage)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the interior node over two subtrees."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def append(
    frontier: Sequence[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append the leaf hash `leaf` to a tree of `size` leaves whose frontier (compact range: the roots of its
    perfect subtrees, largest first, one per set bit of size) is `frontier`.

    Returns the new frontier and the nodes to store, (level, index, hash): the leaf at (0, size) first, then
    every perfect subtree it completes, upwards.
    """
    if size < 0 or len(frontier) != size.bit_count():
        raise ValueError(
            f"a tree of {size} leaves has {max(size, 0).bit_count()} perfect subtrees, not {len(frontier)}"
        )
    if len(leaf) != HASH_SIZE:
        raise ValueError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
    frontier = list(frontier)
    completed = [(0, size, leaf)]
    level, index, node = 0, size, leaf
    # Each trailing one bit of size is a perfect subtree that the new node pairs with, like a binary carry.
    while index & 1:
        node = node_hash(frontier.pop(), node)
        level, index = level + 1, index >> 1
        completed.append((level, index, node))
    frontier.append(node)
    return frontier, completed


def root(frontier: Sequence[bytes]) -> bytes:
    """The tree head MTH(D[n]) from the tree's frontier (EMPTY_ROOT for none)."""
    if not frontier:
        return EMPTY_ROOT
    # MTH splits at the largest power of two below n: the largest perfect subtree is the left child, the rest
    # of the tree the right one, recursively; hence a fold from the right.
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = node_hash(left, node)
    return node


def _perfect_subtrees(start: int, size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees that leaves [start, start + size) split into, largest first."""
    nodes = []
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def subtree_hash(start: int, end: int, hash_at: HashReader) -> bytes:
    """MTH(D[start:end]) for a range that the RFC's recursion produces: start is a multiple of the smallest
    power of two >= end - start. A perfect aligned range is a single read; a right edge is folded from the
    perfect subtrees it is made of."""
    size = end - start
    if start < 0 or size <= 0 or start % (1 << (size - 1).bit_length()):
        raise ValueError(f"[{start}, {end}) is not a subtree of a Merkle tree")
    return root([hash_at(level, index) for level, index in _perfect_subtrees(start, size)])


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, size: int, hash_at: HashReader) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves, leaf
    side first."""
    if not 0 <= index < size:
        raise ValueError(f"no leaf {index} in a tree of {size}")
    path = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_hash(mid, end, hash_at))
            end = mid
        else:
            path.append(subtree_hash(start, mid, hash_at))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, hash_at: HashReader) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1 (SUBPROOF unrolled): the nodes proving that the tree of `new_size`
    leaves extends the tree of `old_size`; empty when the sizes are equal."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    path = []
    start, end, known = 0, new_size, True
    while old_size < end:
        mid = start + _split(end - start)
        if old_size <= mid:
            path.append(subtree_hash(mid, end, hash_at))
            end = mid
        else:
            path.append(subtree_hash(start, mid, hash_at))
            start, known = mid, False
    # SUBPROOF(m, D[m], false): once the recursion turned right, the old head is no node of the new tree; the
    # node the old tree ends in is sent for the verifier to start from.
    if not known:
        path.append(subtree_hash(start, end, hash_at))
    path.reverse()
    return path


def _well_formed(sizes: Iterable[object], hashes: Iterable[object], proof: object) -> bool:
    if not isinstance(proof, Sequence) or isinstance(proof, bytes | str):
        return False
    return all(type(n) is int and n >= 0 for n in sizes) and all(
        isinstance(h, bytes) and len(h) == HASH_SIZE for h in (*hashes, *proof)
    )


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: whether `proof` shows the leaf hash `leaf` at `index` in the tree of `size` leaves
    with head `root`. False for malformed input.

    `leaf` must be leaf_hash of the entry, computed by the verifier, and `size` must be the one signed with
    `root`: the size fixes each leaf's depth, so an interior node cannot pass for a leaf.
    """
    if not _well_formed((index, size), (leaf, root), proof) or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: whether `proof` shows that the tree (new_size, new_root) extends the tree
    (old_size, old_root). False for malformed input.

    Equal sizes need an empty proof and equal heads. The RFC leaves old_size 0 out; here every tree extends
    the empty one, whose head must be EMPTY_ROOT, and the proof must be empty.
    """
    if not _well_formed((old_size, new_size), (old_root, new_root), proof) or old_size > new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    # A perfect old tree is a node of the new one: the prover leaves its head out.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def reads(compute: Callable[[HashReader], object]) -> set[tuple[int, int]]:
    """The (level, index) of every node `compute` reads, run with a reader that answers a dummy hash: the
    provers branch on indices only, so these are exactly the nodes the real run will need."""
    asked: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        asked.add((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return asked


def root_from_leaves(leaves: Iterable[bytes]) -> bytes:
    """The tree head over a stream of leaf hashes, in O(log n) memory: for an auditor who reads every leaf."""
    frontier: list[bytes] = []
    size = 0
    for leaf in leaves:
        frontier, _ = append(frontier, size, leaf)
        size += 1
    return root(frontier)
