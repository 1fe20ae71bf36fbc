"""Signing keys of every kind the profile allows, under a CA of their own, for the tests of our signatures
(test_signer.py, test_compose.py)."""

from __future__ import annotations

import pytest

from gateway.pki.dev_ca import cert_pem, issue_cert, key_pem, make_issuing_ca, make_root_ca, new_key
from gateway.xml.signatures import Signer

KEY_KINDS = ("ec-p256", "ec-p384", "rsa-2048")


@pytest.fixture(scope="session")
def signing_pki():
    """(root CA, issuing CA)."""
    root = make_root_ca("Signer Test Root")
    return root, make_issuing_ca(root, "Signer Test Issuing CA")


@pytest.fixture(scope="session", params=KEY_KINDS)
def signing_key(request, signing_pki):
    """(key kind, the certified key, a Signer with it), once per kind."""
    _root, issuing = signing_pki
    leaf = issue_cert(issuing, "sys-signer-test", "Signer test", "system", key=new_key(request.param))
    return request.param, leaf, Signer(key_pem(leaf.key), [cert_pem(leaf.cert)])
