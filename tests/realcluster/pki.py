"""The test control plane's certificates and keys, laid out as kubeadm lays out a cluster's.

One self-signed CA signs the apiserver's serving certificate (for 127.0.0.1, localhost and the
``kubernetes.default.svc`` names) and one client certificate per identity: the test's admin
(group ``system:masters``, used only to set the cluster up and inspect it), the controller
manager and the scheduler (the user names Kubernetes' bootstrap RBAC already binds) and the
simulated kubelets. Service-account tokens are signed by a separate key pair. Keys are P-256:
quick to make, accepted everywhere.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID = datetime.timedelta(days=2)


@dataclass(frozen=True)
class ClientCert:
    """A client certificate and its key, as files."""

    cert: Path
    key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _name(common: str, organisation: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if organisation:
        parts.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(parts)


class Authority:
    """A CA in ``directory`` (``ca.crt``, ``ca.key``) that issues certificates beside it."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._key = _key()
        now = datetime.datetime.now(datetime.UTC)
        self._name = _name("model-gateway-test-ca")
        self._cert = (
            x509.CertificateBuilder().subject_name(self._name).issuer_name(self._name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALID)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._key, hashes.SHA256()))
        self.cert = directory / "ca.crt"
        self.cert.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self.key = directory / "ca.key"
        _write_key(self._key, self.key)

    def _issue(self, stem: str, subject: x509.Name, usage: x509.ObjectIdentifier,
               names: list[x509.GeneralName] | None = None) -> ClientCert:
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self._name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALID)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        found = ClientCert(self.directory / f"{stem}.crt", self.directory / f"{stem}.key")
        found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, found.key)
        return found

    def serving(self, stem: str, *, addresses: list[str], hostnames: list[str]) -> ClientCert:
        """A TLS server certificate for these IP addresses and DNS names."""
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in hostnames]
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
        return self._issue(stem, _name(hostnames[0]), ExtendedKeyUsageOID.SERVER_AUTH, names)

    def client(self, stem: str, *, user: str, group: str | None = None) -> ClientCert:
        """A client certificate authenticating as ``user`` (in ``group``, if given)."""
        return self._issue(stem, _name(user, group), ExtendedKeyUsageOID.CLIENT_AUTH)


def service_account_keys(directory: Path) -> tuple[Path, Path]:
    """The key pair that signs service-account tokens: (private key, public key)."""
    key = _key()
    private = directory / "sa.key"
    _write_key(key, private)
    public = directory / "sa.pub"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public
