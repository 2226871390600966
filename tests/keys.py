"""RSA keys and self-signed certificates for the JWT tests, made on the spot.

Nothing is read from disk: :func:`make_key_pair` generates a 2048-bit key and
a certificate for it with ``cryptography`` (part of the ``jwt`` and
``fake-org`` extras).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = ["KeyPair", "make_key_pair"]


@dataclass(frozen=True)
class KeyPair:
    """An RSA private key with its public key and a self-signed certificate, as PEM."""

    private_key: rsa.RSAPrivateKey
    certificate: str
    public_key: str

    @property
    def private_pem(self) -> str:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def make_key_pair(name: str = "fake-org-tests") -> KeyPair:
    """A fresh 2048-bit RSA key and a self-signed certificate for it (valid for a day)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(
        key, certificate.public_bytes(serialization.Encoding.PEM).decode(), public.decode()
    )
