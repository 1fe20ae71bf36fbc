"""SMDO-style adapter: interagency document cards (our own format, urn:zvarot:smdo-card:1, not the official
SMDO schema) to and from Zvarot documents. See README.md in this directory.

- `adapters.smdo.card`: the card as dataclasses; read_card / write_card (hardened parsing, card.xsd).
- `adapters.smdo.convert`: cards <-> Appeal, AppealReply, AppealStatusChange, StatusUpdate, Receipt.
- `python -m adapters.smdo`: the same from the command line.
"""
