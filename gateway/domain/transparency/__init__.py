"""Transparency log mathematics: the Merkle trees of RFC 9162 (merkle), plain Python."""
