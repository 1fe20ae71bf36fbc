"""Namespace URIs and algorithm identifiers, defined once."""

ZV = "urn:zvarot:1"
DS = "http://www.w3.org/2000/09/xmldsig#"
DSIG_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
XMLENC = "http://www.w3.org/2001/04/xmlenc#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"

NSMAP_DS = {"ds": DS}
NSMAP = {"zv": ZV, "ds": DS}

# Transforms and canonicalization
ENVELOPED = DS + "enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

# Signature methods allowed by the profile (SPEC: Signature profile)
RSA_SHA256 = DSIG_MORE + "rsa-sha256"
RSA_SHA384 = DSIG_MORE + "rsa-sha384"
RSA_SHA512 = DSIG_MORE + "rsa-sha512"
RSA_PSS_SHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
ECDSA_SHA256 = DSIG_MORE + "ecdsa-sha256"
ECDSA_SHA384 = DSIG_MORE + "ecdsa-sha384"

# Digest methods allowed by the profile
SHA256 = XMLENC + "sha256"
SHA384 = DSIG_MORE + "sha384"
SHA512 = XMLENC + "sha512"


def zv(local: str) -> str:
    """Clark notation for an element of the Zvarot namespace."""
    return f"{{{ZV}}}{local}"


def ds(local: str) -> str:
    return f"{{{DS}}}{local}"
