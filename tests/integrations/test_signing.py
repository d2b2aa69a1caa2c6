"""The signature scheme receivers implement: HMAC-SHA256(secret, f"{t}.{body}") in hex, in ``t=…,v1=…``."""

from integrations.signing import sign, signature_header, verify

BODY = b'{"id":"e1","type":"ping"}'
# Computed once with another HMAC implementation; a change here breaks every receiver.
KNOWN = "0d7f29c442e994b76c9163904aacfae80dae69fb454d6ac294faf86e90470181"


def test_the_signature_of_a_known_body():
    assert sign("whsec_test", 1700000000, BODY) == KNOWN


def test_the_header_carries_the_timestamp_and_one_v1_per_secret():
    assert signature_header(["whsec_test"], 1700000000, BODY) == f"t=1700000000,v1={KNOWN}"
    header = signature_header(["whsec_new", "whsec_test"], 1700000000, BODY)
    assert header.split(",") == ["t=1700000000", f"v1={sign('whsec_new', 1700000000, BODY)}", f"v1={KNOWN}"]


def test_verify_accepts_any_v1_and_refuses_tampering_and_replays():
    header = signature_header(["whsec_new", "whsec_test"], 1700000000, BODY)

    assert verify("whsec_test", header, BODY, now=1700000100)
    assert verify("whsec_new", header, BODY, now=1700000100)
    assert not verify("whsec_other", header, BODY, now=1700000100)
    assert not verify("whsec_test", header, BODY + b" ", now=1700000100)
    assert not verify("whsec_test", header.replace("t=1700000000", "t=1700000001"), BODY, now=1700000100)
    assert not verify("whsec_test", header, BODY, now=1700000000 + 301)  # older than 5 minutes
    assert not verify("whsec_test", f"v1={KNOWN}", BODY, now=1700000000)  # no timestamp
