"""The signature scheme, shared with the receivers (docs/api.md, "Webhooks").

``Accord-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`` where each ``v1`` is
HMAC-SHA256(key = the endpoint's secret as UTF-8, message = ``f"{t}.".encode() + body``), hex-encoded, over the
exact bytes of the request body. Two ``v1`` values during the day after a secret rotation (new secret first).
"""

import hashlib
import hmac


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)])


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """True when one ``v1`` of ``header`` is the signature of ``body`` and ``t`` is within ``tolerance`` seconds."""
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or abs(now - int(timestamps[0])) > tolerance:
        return False
    expected = sign(secret, int(timestamps[0]), body)
    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")
