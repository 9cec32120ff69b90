"""RS256 JSON Web Tokens signed with ``cryptography``: Snowflake key-pair auth and GitHub App auth.

Only encoding and signing happen here (base64url of compact JSON); nothing is parsed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .context import ProbeFailed


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _compact(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def private_key(pem: str, what: str) -> rsa.RSAPrivateKey:
    """The RSA key in ``pem``; a CI variable may hold it with its newlines escaped as ``\\n``."""
    text = pem if "\n" in pem else pem.replace("\\n", "\n")
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ProbeFailed(f"{what} is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProbeFailed(f"{what} is not an RSA private key")
    return key


def sign(claims: Mapping[str, Any], key: rsa.RSAPrivateKey) -> str:
    """A compact RS256 JWT of ``claims``."""
    signing_input = f"{b64url(_compact({'alg': 'RS256', 'typ': 'JWT'}))}.{b64url(_compact(claims))}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def fingerprint(key: rsa.RSAPrivateKey) -> str:
    """``SHA256:`` + base64 of the SHA-256 of the public key's DER (SubjectPublicKeyInfo), as Snowflake shows it."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()
