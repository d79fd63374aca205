"""A minimal RFC 3161 timestamp authority on localhost, for tests only (no network needed).

It answers ``application/timestamp-query`` POSTs with a CMS-signed ``TSTInfo`` over the request's
message imprint, signed by a TSA certificate (critical timeStamping EKU) issued under the
session's dev PKI, with the ESSCertIDv2 signing-certificate attribute RFC 5816 asks for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import algos, cms, core, tsp, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

_POLICY = "1.3.6.1.4.1.99999.1.1"  # private-arc test policy


class _Tsa:
    def __init__(self, chain_pem: Path, key_pem: Path) -> None:
        pems = chain_pem.read_bytes().split(b"-----END CERTIFICATE-----")
        ders = [_pem_to_der(p + b"-----END CERTIFICATE-----") for p in pems if b"BEGIN" in p]
        self.certs = [x509.Certificate.load(d) for d in ders]
        key = serialization.load_pem_private_key(key_pem.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self.key = key
        self.serial = 1
        self.lock = threading.Lock()

    def respond(self, body: bytes) -> bytes:
        request = tsp.TimeStampReq.load(body)
        with self.lock:
            self.serial += 1
            serial = self.serial
        info = {
            "version": "v1",
            "policy": _POLICY,
            "message_imprint": request["message_imprint"],
            "serial_number": serial,
            "gen_time": dt.datetime.now(dt.UTC).replace(microsecond=0),
            "accuracy": {"seconds": 1},
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        tst_der = tsp.TSTInfo(info).dump()
        leaf = self.certs[0]
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]}
                ),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            {
                                "certs": [
                                    {
                                        "hash_algorithm": {"algorithm": "sha256"},
                                        "cert_hash": hashlib.sha256(leaf.dump()).digest(),
                                    }
                                ]
                            }
                        ],
                    }
                ),
            ]
        )
        signature = self.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": leaf.issuer,
                            "serial_number": leaf.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(tst_der),
                },
                "certificates": self.certs,
                "signer_infos": [signer_info],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": token}
        ).dump()


def _pem_to_der(pem: bytes) -> bytes:
    from cryptography import x509 as cx509

    return cx509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


@contextmanager
def local_tsa(chain_pem: Path, key_pem: Path) -> Iterator[str]:
    """Serve a TSA on 127.0.0.1 for the duration of the block; yields its URL."""
    tsa = _Tsa(chain_pem, key_pem)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            answer = tsa.respond(self.rfile.read(length))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
