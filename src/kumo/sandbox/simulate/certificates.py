"""kube-controller-manager's ``csrsigning``: approved requests to the built-in signers get a certificate.

The signers ``kubernetes.io/kube-apiserver-client``, ``kube-apiserver-client-kubelet`` and
``kubelet-serving`` issue an X.509 certificate for the request's subject and public key, valid for
``expirationSeconds`` (one year at most, as ``--cluster-signing-duration``), with the key usages the
request lists, signed by a cluster CA made when the first certificate is issued. A request that is
not a valid PEM ``CERTIFICATE REQUEST`` gets a Failed condition instead; custom signers are left to
their own controllers, as on a cluster.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kumo.sandbox.kubeapi import ApiError, Event
from kumo.sandbox.simulate.core import SimBase

SIGNERS = frozenset(
    {
        "kubernetes.io/kube-apiserver-client",
        "kubernetes.io/kube-apiserver-client-kubelet",
        "kubernetes.io/kubelet-serving",
    }
)
MAX_SECONDS = 365 * 24 * 3600
_MANAGER = "kube-controller-manager"
_EXTENDED = {"client auth": ExtendedKeyUsageOID.CLIENT_AUTH, "server auth": ExtendedKeyUsageOID.SERVER_AUTH}


def _condition(csr: dict[str, Any], kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status", "True") == "True"
        for c in (csr.get("status") or {}).get("conditions") or []
    )


class CSRSigningController:
    name = "csrsigning"

    def __init__(self, sim: SimBase) -> None:
        self.sim = sim
        self.csr_rt = sim.rt("certificates.k8s.io", "v1", "certificatesigningrequests")
        self._ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None

    def on_event(self, ev: Event) -> None:
        if ev.key == self.csr_rt.store_key and ev.type != "DELETED":
            self.sim.enqueue(self.name, "", ev.obj["metadata"]["name"])

    def _authority(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        if self._ca is None:
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
            now = datetime.datetime.now(datetime.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256())
            )
            self._ca = (key, cert)
        return self._ca

    def _issue(self, csr: dict[str, Any]) -> bytes:
        spec = csr.get("spec") or {}
        request = x509.load_pem_x509_csr(base64.b64decode(str(spec.get("request", ""))))
        key, ca = self._authority()
        seconds = min(int(spec.get("expirationSeconds") or MAX_SECONDS), MAX_SECONDS)
        now = datetime.datetime.now(datetime.UTC)
        usages = {str(u) for u in spec.get("usages") or []}
        builder = (
            x509.CertificateBuilder()
            .subject_name(request.subject)
            .issuer_name(ca.subject)
            .public_key(request.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(seconds=seconds))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        extended = [_EXTENDED[u] for u in sorted(usages) if u in _EXTENDED]
        if extended:
            builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
        if spec.get("signerName") == "kubernetes.io/kubelet-serving":
            try:
                sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                builder = builder.add_extension(sans, critical=False)
            except x509.ExtensionNotFound:
                pass
        cert = builder.sign(key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)

    def reconcile(self, namespace: str, name: str) -> None:
        csr = self.sim.store.try_get(self.csr_rt, None, name)
        if csr is None or (csr.get("spec") or {}).get("signerName") not in SIGNERS:
            return
        status = csr.setdefault("status", {})
        if status.get("certificate") or not _condition(csr, "Approved"):
            return
        if _condition(csr, "Denied") or _condition(csr, "Failed"):
            return
        try:
            status["certificate"] = base64.b64encode(self._issue(csr)).decode()
        except (ValueError, TypeError) as exc:
            now = self.sim.now()
            status.setdefault("conditions", []).append(
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "SignerValidationFailure",
                    "message": f"unable to parse csr: {exc}",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                }
            )
        try:
            self.sim.store.update(self.csr_rt, None, name, csr, manager=_MANAGER, subresource="status")
        except ApiError:
            self.sim.later(0.5, self.name, "", name)
