"""The development PKI: a root CA, an issuing CA and certificates for the gateway, systems and officials.

Never used in production (production trust anchors are configured by the operator). Only `cryptography`
and the standard library are used, so tests can craft good and deliberately bad certificates with the
low-level building blocks, and `zvarot pki init|issue|revoke|crl` wraps the directory-level operations.

Directory layout (default `var/pki`)::

    manifest.json
    ca/root.pem  ca/root.key.pem  ca/issuing.pem  ca/issuing.key.pem
    identities/<uid>.pem  identities/<uid>.key.pem
    trust/anchors/root.pem  trust/intermediates/issuing.pem           <- the trust store the gateway reads
    trust/crls/root.crl.pem  trust/crls/issuing.crl.pem
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

ORGANIZATION = "Zvarot dev"
ROOT_CA_NAME = "Zvarot Dev Root CA"
ISSUING_CA_NAME = "Zvarot Dev Issuing CA"
GATEWAY_NAME = "Zvarot Gateway"
DEFAULT_DIRECTORY = Path("var/pki")
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
CRL_DAYS = 7

KEY_KINDS = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-1024")
IDENTITY_KINDS = ("system", "official", "gateway")
# Default key per identity kind: officials get RSA so that both algorithm families are exercised.
DEFAULT_KEY_KIND = {"system": "ec-p256", "official": "rsa-2048", "gateway": "ec-p256"}
# The CAs use RSA: verifying RSA signatures (certificates, CRLs) is the cheap direction, which keeps the
# gateway's chain validation fast.
CA_KEY_KIND = "rsa-3072"

KEY_USAGE_NAMES = (
    "digitalSignature",
    "nonRepudiation",  # alias: contentCommitment
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
)

# Clock skew allowance: certificates become valid a little before they are made.
_BACKDATE = timedelta(minutes=5)
_UID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def serial(self) -> int:
        return self.cert.serial_number


# --------------------------------------------------------------------------------------------------------
# Low-level building blocks
# --------------------------------------------------------------------------------------------------------


def new_key(kind: str = "ec-p256") -> PrivateKey:
    """A fresh private key: "ec-p256", "ec-p384", "rsa-2048", "rsa-3072" or "rsa-1024" (attack tests only)."""
    if kind == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind in ("rsa-2048", "rsa-3072", "rsa-1024"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[4:]))
    raise ValueError(f"unknown key kind {kind!r}; expected one of {', '.join(KEY_KINDS)}")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _ca_name(name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )


def _leaf_name(uid: str | None, common_name: str, kind: str) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, kind),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if uid is not None:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(attributes)


def _key_usage(names: Iterable[str] | None) -> x509.KeyUsage | None:
    if names is None:
        return None
    wanted = {"contentCommitment" if n == "nonRepudiation" else n for n in names}
    known = {"contentCommitment", *KEY_USAGE_NAMES} - {"nonRepudiation"}
    unknown = wanted - known
    if unknown:
        raise ValueError(f"unknown key usage(s): {', '.join(sorted(unknown))}")
    if not wanted:
        return None
    return x509.KeyUsage(
        digital_signature="digitalSignature" in wanted,
        content_commitment="contentCommitment" in wanted,
        key_encipherment="keyEncipherment" in wanted,
        data_encipherment="dataEncipherment" in wanted,
        key_agreement="keyAgreement" in wanted,
        key_cert_sign="keyCertSign" in wanted,
        crl_sign="cRLSign" in wanted,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_key_usage() -> x509.KeyUsage:
    usage = _key_usage(("keyCertSign", "cRLSign"))
    assert usage is not None
    return usage


def _build(
    *,
    subject: x509.Name,
    issuer_name: x509.Name,
    public_key: Any,
    signing_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    serial: int | None,
    basic_constraints: x509.BasicConstraints,
    key_usage: x509.KeyUsage | None,
    issuer_public_key: Any,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(_utc(not_before))
        .not_valid_after(_utc(not_after))
        .add_extension(basic_constraints, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False)
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    return builder.sign(signing_key, _hash_for(signing_key))


def make_root_ca(
    name: str = ROOT_CA_NAME,
    key: PrivateKey | None = None,
    days: int = 3650,
    not_before: datetime | None = None,
) -> CertifiedKey:
    """A self-signed root CA (no path length limit, keyCertSign + cRLSign)."""
    key = key or new_key(CA_KEY_KIND)
    start = _utc(not_before) if not_before else _now() - _BACKDATE
    subject = _ca_name(name)
    cert = _build(
        subject=subject,
        issuer_name=subject,
        public_key=key.public_key(),
        signing_key=key,
        not_before=start,
        not_after=start + timedelta(days=days),
        serial=None,
        basic_constraints=x509.BasicConstraints(ca=True, path_length=None),
        key_usage=_ca_key_usage(),
        issuer_public_key=key.public_key(),
    )
    return CertifiedKey(cert, key)


def make_issuing_ca(
    parent: CertifiedKey,
    name: str = ISSUING_CA_NAME,
    key: PrivateKey | None = None,
    days: int = 1825,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    path_length: int | None = 0,
    serial: int | None = None,
) -> CertifiedKey:
    """An intermediate CA under `parent` (pathLen 0 by default: it issues only end-entity certificates).

    Without an explicit `not_after` its validity is clipped to the parent's.
    """
    key = key or new_key(CA_KEY_KIND)
    start = _utc(not_before) if not_before else _now() - _BACKDATE
    end = _utc(not_after) if not_after else min(start + timedelta(days=days), parent.cert.not_valid_after_utc)
    cert = _build(
        subject=_ca_name(name),
        issuer_name=parent.cert.subject,
        public_key=key.public_key(),
        signing_key=parent.key,
        not_before=start,
        not_after=end,
        serial=serial,
        basic_constraints=x509.BasicConstraints(ca=True, path_length=path_length),
        key_usage=_ca_key_usage(),
        issuer_public_key=parent.key.public_key(),
    )
    return CertifiedKey(cert, key)


def issue_cert(
    issuer: CertifiedKey,
    uid: str | None,
    common_name: str,
    kind: str = "system",
    key: PrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: Iterable[str] | None = ("digitalSignature", "nonRepudiation"),
    serial: int | None = None,
    days: int = 730,
) -> CertifiedKey:
    """An end-entity signing certificate: subject O=Zvarot dev, OU=<kind>, CN=<common_name>, UID=<uid>.

    `uid=None` leaves UID out and `key_usage=None` (or empty) leaves the KeyUsage extension out -- both
    only for attack tests. Without an explicit `not_after` the validity is clipped to the issuer's.
    """
    if kind not in IDENTITY_KINDS:
        raise ValueError(f"unknown identity kind {kind!r}; expected one of {', '.join(IDENTITY_KINDS)}")
    key = key or new_key(DEFAULT_KEY_KIND[kind])
    start = _utc(not_before) if not_before else _now() - _BACKDATE
    end = _utc(not_after) if not_after else min(start + timedelta(days=days), issuer.cert.not_valid_after_utc)
    cert = _build(
        subject=_leaf_name(uid, common_name, kind),
        issuer_name=issuer.cert.subject,
        public_key=key.public_key(),
        signing_key=issuer.key,
        not_before=start,
        not_after=end,
        serial=serial,
        basic_constraints=x509.BasicConstraints(ca=False, path_length=None),
        key_usage=_key_usage(key_usage),
        issuer_public_key=issuer.key.public_key(),
    )
    return CertifiedKey(cert, key)


def make_self_signed(
    uid: str | None,
    common_name: str | None = None,
    kind: str = "system",
    key: PrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: Iterable[str] | None = ("digitalSignature", "nonRepudiation"),
    days: int = 730,
) -> CertifiedKey:
    """A leaf that is its own issuer (for the "self-signed signer" attack)."""
    if kind not in IDENTITY_KINDS:
        raise ValueError(f"unknown identity kind {kind!r}")
    key = key or new_key(DEFAULT_KEY_KIND[kind])
    start = _utc(not_before) if not_before else _now() - _BACKDATE
    end = _utc(not_after) if not_after else start + timedelta(days=days)
    subject = _leaf_name(uid, common_name or uid or "self-signed", kind)
    cert = _build(
        subject=subject,
        issuer_name=subject,
        public_key=key.public_key(),
        signing_key=key,
        not_before=start,
        not_after=end,
        serial=None,
        basic_constraints=x509.BasicConstraints(ca=False, path_length=None),
        key_usage=_key_usage(key_usage),
        issuer_public_key=key.public_key(),
    )
    return CertifiedKey(cert, key)


def make_crl(
    issuer: CertifiedKey,
    revoked_serials: Iterable[int] | Iterable[tuple[int, datetime]] = (),
    last_update: datetime | None = None,
    next_update: datetime | None = None,
    crl_number: int | None = None,
) -> x509.CertificateRevocationList:
    """A CRL signed by `issuer.key` (SHA-256) in the name of `issuer.cert`.

    `revoked_serials` holds serial numbers, or (serial, revocation date) pairs. Defaults: lastUpdate now,
    nextUpdate lastUpdate + 7 days, CRLNumber the lastUpdate's Unix time.
    """
    this_update = _utc(last_update) if last_update else _now()
    upcoming = _utc(next_update) if next_update else this_update + timedelta(days=CRL_DAYS)
    number = crl_number if crl_number is not None else max(int(this_update.timestamp()), 1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(upcoming)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    )
    for item in revoked_serials:
        serial, when = item if isinstance(item, tuple) else (item, this_update)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(serial)).revocation_date(_utc(when)).build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 PEM (development only)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


# --------------------------------------------------------------------------------------------------------
# Directory-level operations (wrapped by `zvarot pki ...`)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def ca(self) -> Path:
        return self.root / "ca"

    @property
    def identities(self) -> Path:
        return self.root / "identities"

    @property
    def trust(self) -> Path:
        return self.root / "trust"

    def ca_cert(self, which: str) -> Path:
        return self.ca / f"{which}.pem"

    def ca_key(self, which: str) -> Path:
        return self.ca / f"{which}.key.pem"

    def identity_cert(self, uid: str) -> Path:
        return self.identities / f"{uid}.pem"

    def identity_key(self, uid: str) -> Path:
        return self.identities / f"{uid}.key.pem"

    @property
    def anchor(self) -> Path:
        return self.trust / "anchors" / "root.pem"

    @property
    def intermediate(self) -> Path:
        return self.trust / "intermediates" / "issuing.pem"

    def crl(self, which: str) -> Path:
        return self.trust / "crls" / f"{which}.crl.pem"


def _layout(directory: Path | str) -> _Layout:
    return _Layout(Path(directory).absolute())


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temporary file in the same directory and os.replace (the file gets `mode`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _check_uid(uid: str) -> str:
    if not isinstance(uid, str) or not _UID_RE.match(uid):
        raise ValueError(f"invalid uid {uid!r}: use letters, digits, '.', '_' and '-' (max 128)")
    return uid


def _load_certified(cert_path: Path | str, key_path: Path | str) -> CertifiedKey:
    cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key_path}: unsupported key type")
    return CertifiedKey(cert, key)


def _save_identity(layout: _Layout, certified: CertifiedKey, uid: str, kind: str, name: str) -> dict:
    cert_path, key_path = layout.identity_cert(uid), layout.identity_key(uid)
    # Key first: a certificate on disk always has its key next to it.
    _write_atomic(key_path, key_pem(certified.key), 0o600)
    _write_atomic(cert_path, cert_pem(certified.cert))
    return {
        "uid": uid,
        "kind": kind,
        "name": name,
        "cert": str(cert_path),
        "key": str(key_path),
        "serial": format(certified.cert.serial_number, "x"),
        "not_after": certified.cert.not_valid_after_utc.isoformat(),
        "revoked": False,
    }


def _write_manifest(layout: _Layout, manifest: dict) -> None:
    _write_atomic(layout.manifest, (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode())


def load_manifest(directory: Path | str = DEFAULT_DIRECTORY) -> dict:
    """The manifest of an initialised dev PKI (FileNotFoundError if `init_pki` has not run)."""
    layout = _layout(directory)
    try:
        manifest = json.loads(layout.manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no dev PKI at {layout.root} (run `zvarot pki init`)") from None
    if manifest.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{layout.manifest}: unsupported manifest version {manifest.get('version')!r}")
    return manifest


def _sign_crls(layout: _Layout, manifest: dict, days: int = CRL_DAYS) -> None:
    """(Re-)sign both CRLs from the manifest's revocation list."""
    now = _now()
    by_issuer: dict[str, list[tuple[int, datetime]]] = {"root": [], "issuing": []}
    for entry in manifest.get("revocations", []):
        by_issuer[entry["issuer"]].append(
            (int(entry["serial"], 16), datetime.fromisoformat(entry["revoked_at"]))
        )
    for which in ("root", "issuing"):
        ca = _load_certified(layout.ca_cert(which), layout.ca_key(which))
        crl = make_crl(ca, by_issuer[which], last_update=now, next_update=now + timedelta(days=days))
        _write_atomic(layout.crl(which), crl_pem(crl))


def init_pki(
    directory: Path | str = DEFAULT_DIRECTORY,
    systems: Iterable[tuple[str, str]] = (),
    officials: Iterable[tuple[str, str]] = (),
    gateway_uid: str = "zvarot-gateway",
) -> dict:
    """Create the dev PKI under `directory` and return its manifest; if it exists, return it unchanged."""
    layout = _layout(directory)
    if layout.manifest.exists():
        return load_manifest(layout.root)
    systems, officials = list(systems), list(officials)
    uids = [gateway_uid, *(uid for uid, _ in systems), *(uid for uid, _ in officials)]
    for uid in uids:
        _check_uid(uid)
    if len(set(uids)) != len(uids):
        raise ValueError("uids must be unique across the gateway, systems and officials")

    layout.root.mkdir(parents=True, exist_ok=True)
    layout.ca.mkdir(mode=0o700, exist_ok=True)
    root = make_root_ca(ROOT_CA_NAME)
    issuing = make_issuing_ca(root, ISSUING_CA_NAME)
    for which, ca in (("root", root), ("issuing", issuing)):
        _write_atomic(layout.ca_key(which), key_pem(ca.key), 0o600)
        _write_atomic(layout.ca_cert(which), cert_pem(ca.cert))
    _write_atomic(layout.anchor, cert_pem(root.cert))
    _write_atomic(layout.intermediate, cert_pem(issuing.cert))

    gateway = _save_identity(
        layout,
        issue_cert(issuing, gateway_uid, GATEWAY_NAME, "gateway", key=new_key(DEFAULT_KEY_KIND["gateway"])),
        gateway_uid,
        "gateway",
        GATEWAY_NAME,
    )
    identities = []
    for kind, members in (("system", systems), ("official", officials)):
        for uid, name in members:
            certified = issue_cert(issuing, uid, name, kind, key=new_key(DEFAULT_KEY_KIND[kind]))
            identities.append(_save_identity(layout, certified, uid, kind, name))

    manifest = {
        "version": MANIFEST_VERSION,
        "trust_dir": str(layout.trust),
        "root_ca": {
            "cert": str(layout.ca_cert("root")),
            "key": str(layout.ca_key("root")),
            "crl": str(layout.crl("root")),
        },
        "issuing_ca": {
            "cert": str(layout.ca_cert("issuing")),
            "key": str(layout.ca_key("issuing")),
            "crl": str(layout.crl("issuing")),
        },
        "gateway": gateway,
        "identities": identities,
        "revocations": [],
    }
    _sign_crls(layout, manifest)
    _write_manifest(layout, manifest)  # last: its presence means "complete"
    return manifest


def issue(
    directory: Path | str,
    uid: str,
    kind: str,
    name: str | None = None,
    key_kind: str | None = None,
) -> dict:
    """Issue (or re-issue, with a new key) a certificate for `uid` and return its manifest entry.

    Re-issuing does not revoke the previous certificate; use `revoke` first if it must stop working.
    """
    layout = _layout(directory)
    manifest = load_manifest(layout.root)
    _check_uid(uid)
    if kind not in IDENTITY_KINDS:
        raise ValueError(f"unknown identity kind {kind!r}; expected one of {', '.join(IDENTITY_KINDS)}")
    is_gateway = uid == manifest["gateway"]["uid"]
    if is_gateway != (kind == "gateway"):
        raise ValueError(
            f"uid {uid!r}: only the gateway's uid ({manifest['gateway']['uid']}) has kind 'gateway'"
        )
    existing = (
        manifest["gateway"]
        if is_gateway
        else next((e for e in manifest["identities"] if e["uid"] == uid), None)
    )
    name = name or (existing["name"] if existing else uid)
    issuing = _load_certified(layout.ca_cert("issuing"), layout.ca_key("issuing"))
    certified = issue_cert(issuing, uid, name, kind, key=new_key(key_kind or DEFAULT_KEY_KIND[kind]))
    entry = _save_identity(layout, certified, uid, kind, name)
    if is_gateway:
        manifest["gateway"] = entry
    else:
        manifest["identities"] = [e for e in manifest["identities"] if e["uid"] != uid] + [entry]
    _write_manifest(layout, manifest)
    return entry


def revoke(directory: Path | str, uid: str) -> dict:
    """Revoke the current certificate of `uid`: mark it in the manifest and re-sign the CRLs."""
    layout = _layout(directory)
    manifest = load_manifest(layout.root)
    candidates = [manifest["gateway"], *manifest["identities"]]
    entry = next((e for e in candidates if e["uid"] == uid), None)
    if entry is None:
        raise KeyError(f"no identity {uid!r} in {layout.manifest}")
    if not entry.get("revoked"):
        entry["revoked"] = True
        revocations = manifest.setdefault("revocations", [])
        if not any(r["serial"] == entry["serial"] and r["issuer"] == "issuing" for r in revocations):
            revocations.append(
                {"uid": uid, "serial": entry["serial"], "issuer": "issuing", "revoked_at": _now().isoformat()}
            )
    _sign_crls(layout, manifest)
    _write_manifest(layout, manifest)
    return entry


def refresh_crls(directory: Path | str = DEFAULT_DIRECTORY, days: int = CRL_DAYS) -> dict:
    """Re-sign both CRLs (nextUpdate = now + `days`) with the revoked serials from the manifest."""
    layout = _layout(directory)
    manifest = load_manifest(layout.root)
    # Identities marked revoked by hand are honoured too.
    revocations = manifest.setdefault("revocations", [])
    for entry in [manifest["gateway"], *manifest["identities"]]:
        if entry.get("revoked") and not any(r["serial"] == entry["serial"] for r in revocations):
            revocations.append(
                {
                    "uid": entry["uid"],
                    "serial": entry["serial"],
                    "issuer": "issuing",
                    "revoked_at": _now().isoformat(),
                }
            )
    _sign_crls(layout, manifest, days)
    _write_manifest(layout, manifest)
    return manifest
