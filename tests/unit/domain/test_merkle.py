"""The Merkle trees of RFC 9162 against a naive reference written from the RFC's recursive definitions,
against published test vectors, and against forged proofs."""

from __future__ import annotations

import hashlib

import pytest

from gateway.domain.transparency.merkle import (
    EMPTY_ROOT,
    append,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    reads,
    root,
    root_from_leaves,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

# --- The reference: RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 as written, over lists of leaf hashes.


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return _sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = _k(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


# --- A log of 1000 leaves, stored as the caller stores it: the nodes `append` emits.

BIG = 1000
SIZES = [*range(1, 71), 127, 128, 129, BIG]
LEAVES = [_sha(b"\x00" + i.to_bytes(4, "big")) for i in range(BIG)]


def _build() -> tuple[dict[tuple[int, int], bytes], list[list[bytes]]]:
    store: dict[tuple[int, int], bytes] = {}
    frontiers: list[list[bytes]] = [[]]
    for size, leaf in enumerate(LEAVES):
        frontier, completed = append(frontiers[-1], size, leaf)
        assert completed[0] == (0, size, leaf)
        for level, index, node in completed:
            assert (level, index) not in store
            store[level, index] = node
        frontiers.append(frontier)
    return store, frontiers


STORE, FRONTIERS = _build()


def reader(size: int):
    """hash_at for the tree of `size` leaves: only nodes complete in that tree exist."""

    def hash_at(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, f"({level}, {index}) is not stored in a tree of {size}"
        return STORE[level, index]

    return hash_at


def sample(n: int) -> list[int]:
    if n <= 130:
        return list(range(n))
    return sorted({0, 1, 2, n // 2, n - 2, n - 1, *range(0, n, 37), 255, 256, 511, 512} & set(range(n)))


@pytest.fixture(scope="module")
def roots() -> dict[int, bytes]:
    return {n: mth(LEAVES[:n]) for n in {0, *SIZES}}


# --- Against the reference.


@pytest.mark.parametrize("size", [0, *SIZES])
def test_the_head_from_append_and_from_the_store_is_the_merkle_tree_hash(size, roots):
    assert root(FRONTIERS[size]) == roots[size]
    assert root_from_leaves(LEAVES[:size]) == roots[size]
    assert len(FRONTIERS[size]) == size.bit_count()


def test_the_store_holds_exactly_the_perfect_subtrees():
    expected = {(level, index) for level in range(10) for index in range(BIG >> level)}
    assert set(STORE) == expected
    for (level, index), node in STORE.items():
        assert node == mth(LEAVES[index << level : (index + 1) << level])


def test_subtree_hash_of_ranges_the_recursion_produces():
    for start, end in [(0, 1000), (512, 1000), (768, 1000), (992, 1000), (999, 1000), (64, 128), (96, 101)]:
        assert subtree_hash(start, end, reader(BIG)) == mth(LEAVES[start:end])
    # A perfect aligned range is one read.
    assert reads(lambda h: subtree_hash(512, 768, h)) == {(8, 2)}


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_proofs_are_the_rfcs_and_verify(size, roots):
    for index in sample(size):
        got = inclusion_proof(index, size, reader(size))
        assert got == path(index, LEAVES[:size])
        assert verify_inclusion(LEAVES[index], index, size, got, roots[size])


@pytest.mark.parametrize("new_size", SIZES)
def test_consistency_proofs_are_the_rfcs_and_verify(new_size, roots):
    for old_size in sample(new_size + 1)[1:]:
        got = consistency_proof(old_size, new_size, reader(new_size))
        assert got == proof(old_size, LEAVES[:new_size])
        old_root = roots.get(old_size) or mth(LEAVES[:old_size])
        assert verify_consistency(old_size, new_size, old_root, roots[new_size], got)


# --- Published vectors: the RFC 6962 vectors of Google's certificate-transparency and Trillian test suites,
# as kept in github.com/transparency-dev/merkle at commit 417fb0c314750d94e53942e9f92e79b6d35915db:
# testonly/constants.go (leaves, node hashes, roots), testonly/reference_test.go (TestRefInclusionProof,
# TestRefConsistencyProof) and rfc6962/rfc6962_test.go (the single hashes).

H = bytes.fromhex
VECTOR_LEAVES = [H(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]] + [
    H("606162636465666768696a6b6c6d6e6f")
]
VECTOR_NODES = {
    (0, 0): "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    (0, 1): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    (0, 2): "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 4): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    (0, 5): "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    (0, 6): "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
VECTOR_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (index, size): inclusion proof, as node names of VECTOR_NODES.
VECTOR_INCLUSION = {
    (0, 1): [],
    (0, 2): [(0, 1)],
    (1, 2): [(0, 0)],
    (2, 3): [(1, 0)],
    (1, 5): [(0, 0), (1, 1), (0, 4)],
    (0, 8): [(0, 1), (1, 1), (2, 1)],
    (5, 8): [(0, 4), (1, 3), (2, 0)],
}
# (old size, new size): consistency proof.
VECTOR_CONSISTENCY = {
    (1, 1): [],
    (1, 8): [(0, 1), (1, 1), (2, 1)],
    (2, 5): [(1, 1), (0, 4)],
    (6, 8): [(1, 2), (1, 3), (2, 0)],
}


def _vector_store() -> tuple[dict[tuple[int, int], bytes], dict[int, bytes]]:
    store, heads, frontier = {}, {}, []
    for size, data in enumerate(VECTOR_LEAVES):
        frontier, completed = append(frontier, size, leaf_hash(data))
        store.update({(level, index): node for level, index, node in completed})
        heads[size + 1] = root(frontier)
    return store, heads


def test_published_hashes():
    assert EMPTY_ROOT == H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert leaf_hash(b"") == H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == H("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert node_hash(b"N123", b"N456") == H(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )
    assert root([]) == EMPTY_ROOT == root_from_leaves([])


def test_published_nodes_and_roots():
    store, heads = _vector_store()
    assert store == {key: H(node) for key, node in VECTOR_NODES.items()}
    assert heads == {size: H(head) for size, head in VECTOR_ROOTS.items()}
    assert root_from_leaves(leaf_hash(d) for d in VECTOR_LEAVES) == H(VECTOR_ROOTS[8])


def test_published_inclusion_proofs():
    store, _ = _vector_store()
    for (index, size), names in VECTOR_INCLUSION.items():
        want = [H(VECTOR_NODES[name]) for name in names]
        assert inclusion_proof(index, size, lambda lv, i: store[lv, i]) == want
        leaf = leaf_hash(VECTOR_LEAVES[index])
        assert verify_inclusion(leaf, index, size, want, H(VECTOR_ROOTS[size]))


def test_published_consistency_proofs():
    store, _ = _vector_store()
    for (old_size, new_size), names in VECTOR_CONSISTENCY.items():
        want = [H(VECTOR_NODES[name]) for name in names]
        assert consistency_proof(old_size, new_size, lambda lv, i: store[lv, i]) == want
        old_root, new_root = H(VECTOR_ROOTS[old_size]), H(VECTOR_ROOTS[new_size])
        assert verify_consistency(old_size, new_size, old_root, new_root, want)


def test_published_probes_of_the_size_8_inclusion_proof_fail():
    """A few of transparency-dev/merkle's testdata/inclusion/1 probes (leaf 0 of 8) that must fail."""
    leaf, head = leaf_hash(VECTOR_LEAVES[0]), H(VECTOR_ROOTS[8])
    good = [H(VECTOR_NODES[name]) for name in VECTOR_INCLUSION[0, 8]]
    assert verify_inclusion(leaf, 0, 8, good, head)
    assert not verify_inclusion(leaf, 0, 16, good, head)  # treeSize-mul-@2
    assert not verify_inclusion(leaf, 0, 4, good, head)  # treeSize-div-@2
    assert not verify_inclusion(leaf, 1, 8, good, head)  # leafIdx-plus-@1
    assert not verify_inclusion(leaf, 2, 8, good, head)  # leafIdx-XOR-@2
    assert not verify_inclusion(leaf, 0, 8, good, EMPTY_ROOT)  # empty-root
    assert not verify_inclusion(leaf, 0, 8, [head, *good], head)  # preceding-root
    assert not verify_inclusion(leaf, 0, 8, [*good, head], head)  # trailing-root
    assert not verify_inclusion(leaf_hash(b"\x01"), 0, 8, good, head)  # wrong-leaf


# --- Forgeries.


def _flips(nodes: list[bytes]):
    """Every proof with one element's bit flipped (a few bits per element)."""
    for i, node in enumerate(nodes):
        for bit in (0, 7, 100, 255):
            forged = bytearray(node)
            forged[bit // 8] ^= 1 << (bit % 8)
            yield [*nodes[:i], bytes(forged), *nodes[i + 1 :]]


def _truncations_and_extensions(nodes: list[bytes]):
    for i in range(len(nodes)):
        yield nodes[:i] + nodes[i + 1 :]
    for i in range(len(nodes) + 1):
        for extra in (bytes(32), LEAVES[0], EMPTY_ROOT):
            yield [*nodes[:i], extra, *nodes[i:]]


@pytest.mark.parametrize("size", [*range(1, 20), 31, 32, 33, 70])
def test_forged_inclusion_proofs_fail(size, roots):
    head = roots.get(size) or mth(LEAVES[:size])
    for index in range(size):
        good = inclusion_proof(index, size, reader(size))
        leaf = LEAVES[index]
        for forged in [*_flips(good), *_truncations_and_extensions(good)]:
            assert not verify_inclusion(leaf, index, size, forged, head)
        for other in range(size + 2):
            if other != index:
                assert not verify_inclusion(leaf, other, size, good, head)
        # Another size is checked against its own head: root and size come signed together.
        for other in {size - 1, size + 1, 2 * size, size // 2} - {size}:
            if index < other:
                assert not verify_inclusion(leaf, index, other, good, mth(LEAVES[:other]))
        assert not verify_inclusion(LEAVES[size], index, size, good, head)
        assert not verify_inclusion(leaf, index, size, good, leaf_hash(head))


@pytest.mark.parametrize("new_size", [*range(2, 20), 31, 32, 33, 70])
def test_forged_consistency_proofs_fail(new_size):
    new_root = mth(LEAVES[:new_size])
    for old_size in range(1, new_size):
        good = consistency_proof(old_size, new_size, reader(new_size))
        old_root = mth(LEAVES[:old_size])
        assert verify_consistency(old_size, new_size, old_root, new_root, good)
        for forged in [*_flips(good), *_truncations_and_extensions(good)]:
            assert not verify_consistency(old_size, new_size, old_root, new_root, forged)
        assert not verify_consistency(new_size, old_size, new_root, old_root, good)  # old_size > new_size
        assert not verify_consistency(old_size, new_size, new_root, old_root, good)  # swapped roots
        assert not verify_consistency(old_size, new_size, leaf_hash(old_root), new_root, good)
        assert not verify_consistency(old_size, new_size, old_root, leaf_hash(new_root), good)
        for other in {old_size - 1, old_size + 1} - {0, new_size}:
            assert not verify_consistency(other, new_size, mth(LEAVES[:other]), new_root, good)
        for other in {new_size - 1, new_size + 1} - {old_size}:
            assert not verify_consistency(old_size, other, old_root, mth(LEAVES[:other]), good)


def test_equal_and_empty_sizes_of_consistency():
    a, b = mth(LEAVES[:5]), mth(LEAVES[:6])
    assert verify_consistency(5, 5, a, a, [])
    assert not verify_consistency(5, 5, a, b, [])
    assert not verify_consistency(5, 5, a, a, [a])
    assert not verify_consistency(5, 6, a, b, [])
    # Every tree extends the empty one, whose head is EMPTY_ROOT; there is nothing to prove.
    assert verify_consistency(0, 6, EMPTY_ROOT, b, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 6, EMPTY_ROOT, b, [b])
    assert not verify_consistency(0, 6, a, b, [])
    assert not verify_consistency(0, 0, a, a, [])
    assert not verify_consistency(1, 0, LEAVES[0], EMPTY_ROOT, [])


def test_an_interior_node_does_not_pass_for_a_leaf():
    """Second preimage: the node over leaves 0 and 1 presented as a leaf of a tree with fewer leaves."""
    l0, l1, l2, l3 = LEAVES[:4]
    n01, n23 = node_hash(l0, l1), node_hash(l2, l3)
    head = mth(LEAVES[:4])
    assert head == node_hash(n01, n23)
    # The entry that would hash to n01 is its children concatenated; as a leaf it gets the other prefix.
    assert not verify_inclusion(leaf_hash(l0 + l1), 0, 2, [n23], head)
    assert root_from_leaves([leaf_hash(l0 + l1), leaf_hash(l2 + l3)]) != head
    # Against the signed size the node sits one level too high for a leaf's proof, at any index.
    for index in range(4):
        assert not verify_inclusion(n01, index, 4, [n23], head)
        assert not verify_inclusion(n23, index, 4, [n01], head)
    # Every interior node of a larger tree, with the path above it, at every index of the tree.
    size = 13
    head = mth(LEAVES[:size])
    for level in range(1, 4):
        for node_index in range(size >> level):
            first = node_index << level
            above = inclusion_proof(first, size, reader(size))[level:]
            for index in range(size):
                assert not verify_inclusion(STORE[level, node_index], index, size, above, head)


def test_a_proof_of_another_length_than_the_size_fixes_fails_even_when_it_reaches_the_head():
    """The size (signed with the head) fixes the proof's length: a right subtree's proof followed by the
    subtree's left sibling reaches the real head, but not for the smaller size it claims; nor does a head's
    proof for a larger size with the same low bits."""
    l0, l1, l2, l3 = LEAVES[:4]
    head = mth(LEAVES[:4])
    assert node_hash(node_hash(l0, l1), node_hash(l2, l3)) == head
    # Leaf 3 of 4 claimed as leaf 1 of a tree of 2 (the subtree [2, 4)).
    assert not verify_inclusion(l3, 1, 2, [l2, node_hash(l0, l1)], head)
    assert not verify_inclusion(l3, 0, 1, [l2, node_hash(l0, l1)], head)
    # The trees of 11 and 15 share their left subtree [0, 8); claimed as trees of 3 and 7 ([8, 11), [8, 15)).
    old_root, new_root = mth(LEAVES[:11]), mth(LEAVES[:15])
    forged = [*proof(3, LEAVES[8:15]), mth(LEAVES[:8])]
    assert verify_consistency(3, 7, mth(LEAVES[8:11]), mth(LEAVES[8:15]), forged[:-1])
    assert not verify_consistency(3, 7, old_root, new_root, forged)
    # And the other way: too short for the size. The heads of 3 and 7 leaves claimed as those of 11 and 15
    # (whose low bits walk the same path).
    assert not verify_consistency(11, 15, mth(LEAVES[:3]), mth(LEAVES[:7]), proof(3, LEAVES[:7]))
    assert not verify_inclusion(LEAVES[2], 10, 15, path(2, LEAVES[:7]), mth(LEAVES[:7]))


def test_malformed_input_fails_verification():
    size, index = 7, 3
    head = mth(LEAVES[:size])
    good = inclusion_proof(index, size, reader(size))
    leaf = LEAVES[index]
    assert verify_inclusion(leaf, index, size, good, head)
    for bad in (good[0][:31], good[0] + b"\x00", b"", good[0].hex(), None, 5):
        assert not verify_inclusion(leaf, index, size, [bad, *good[1:]], head)
    assert not verify_inclusion(leaf[:31], index, size, good, head)
    assert not verify_inclusion(leaf, index, size, good, head + b"\x00")
    assert not verify_inclusion(bytearray(leaf), index, size, good, head)
    assert not verify_inclusion(leaf, index, size, b"".join(good), head)
    assert not verify_inclusion(leaf, index, size, None, head)
    assert not verify_inclusion(leaf, -1, size, good, head)
    assert not verify_inclusion(leaf, size, size, good, head)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, "3", size, good, head)

    old_root = mth(LEAVES[:3])
    good = consistency_proof(3, size, reader(size))
    assert verify_consistency(3, size, old_root, head, good)
    assert not verify_consistency(3, size, old_root, head, [good[0][:31], *good[1:]])
    assert not verify_consistency(3, size, old_root[:31], head, good)
    assert not verify_consistency(3, size, old_root, head[:31], good)
    assert not verify_consistency(3, size, old_root, head, None)
    assert not verify_consistency(-3, size, old_root, head, good)
    assert not verify_consistency(3, 3.5, old_root, head, good)


def test_provers_refuse_what_has_no_proof():
    hash_at = reader(10)
    for index, size in [(10, 10), (11, 10), (-1, 10), (0, 0), (0, -1)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, hash_at)
    for old_size, new_size in [(0, 10), (-1, 10), (11, 10), (0, 0)]:
        with pytest.raises(ValueError):
            consistency_proof(old_size, new_size, hash_at)
    assert consistency_proof(10, 10, hash_at) == []
    for start, end in [(1, 3), (2, 5), (4, 9), (3, 3), (5, 4), (-1, 0)]:
        with pytest.raises(ValueError):
            subtree_hash(start, end, hash_at)
    with pytest.raises(ValueError):
        append([], 1, LEAVES[1])
    with pytest.raises(ValueError):
        append(FRONTIERS[3], 4, LEAVES[4])
    with pytest.raises(ValueError):
        append([], 0, b"entry, not its leaf hash")


# --- What the provers read.


def _real_reads(compute, size: int) -> tuple[object, set[tuple[int, int]]]:
    seen: set[tuple[int, int]] = set()
    hash_at = reader(size)

    def recording(level: int, index: int) -> bytes:
        seen.add((level, index))
        return hash_at(level, index)

    return compute(recording), seen


@pytest.mark.parametrize("size", [*range(1, 40), 127, 128, 129, BIG])
def test_reads_lists_exactly_what_the_provers_read(size):
    computations = [lambda h, i=i: inclusion_proof(i, size, h) for i in sample(size)]
    computations += [lambda h, m=m: consistency_proof(m, size, h) for m in sample(size + 1)[1:]]
    for compute in computations:
        keys = reads(compute)
        result, seen = _real_reads(compute, size)
        assert keys == seen
        # The caller's way: fetch those nodes at once, then compute from them alone.
        fetched = {key: STORE[key] for key in keys}
        assert compute(lambda level, index, fetched=fetched: fetched[level, index]) == result
