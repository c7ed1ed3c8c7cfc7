"""Signed callbacks: a receiver accepts only an untouched body signed recently with its secret."""

from kinfolk.testpay.signature import sign, verify

BODY = b'{"id":"evt_1","type":"charge.approved"}'
SECRET = "whsec_test"
NOW = 1_700_000_000


def test_a_fresh_signature_of_the_same_body_verifies():
    header = sign(BODY, secret=SECRET, timestamp=NOW)

    assert header.startswith(f"t={NOW},v1=")
    assert verify(BODY, header, secret=SECRET, now=NOW + 10)


def test_a_tampered_body_is_rejected():
    header = sign(BODY, secret=SECRET, timestamp=NOW)

    assert not verify(BODY.replace(b"approved", b"declined"), header, secret=SECRET, now=NOW)


def test_a_signature_made_with_another_secret_is_rejected():
    header = sign(BODY, secret="someone-else", timestamp=NOW)

    assert not verify(BODY, header, secret=SECRET, now=NOW)


def test_a_stale_or_future_timestamp_is_rejected():
    header = sign(BODY, secret=SECRET, timestamp=NOW)

    assert verify(BODY, header, secret=SECRET, now=NOW + 300)
    assert not verify(BODY, header, secret=SECRET, now=NOW + 301)
    assert not verify(BODY, header, secret=SECRET, now=NOW - 301)
    assert not verify(BODY, header, secret=SECRET, tolerance=60, now=NOW + 61)


def test_a_replayed_signature_with_a_new_timestamp_is_rejected():
    signature = sign(BODY, secret=SECRET, timestamp=NOW).split(",v1=")[1]

    assert not verify(BODY, f"t={NOW + 100},v1={signature}", secret=SECRET, now=NOW + 100)


def test_malformed_headers_are_rejected():
    good = sign(BODY, secret=SECRET, timestamp=NOW)
    digest = good.split(",v1=")[1]
    for header in [
        "",
        "garbage",
        f"v1={digest}",
        f"t={NOW}",
        f"t=,v1={digest}",
        f"t=abc,v1={digest}",
        f"t={NOW},t={NOW},v1={digest}",
        f"t={NOW},v1=",
        f"t={NOW},v1=é{digest}",
        f"t=١٢,v1={digest}",
        f"t={NOW};v1={digest}",
    ]:
        assert not verify(BODY, header, secret=SECRET, now=NOW), header


def test_one_matching_signature_among_several_verifies_during_secret_rotation():
    old = sign(BODY, secret="old-secret", timestamp=NOW).split(",v1=")[1]
    new = sign(BODY, secret=SECRET, timestamp=NOW).split(",v1=")[1]

    assert verify(BODY, f"t={NOW},v1={old},v1={new}", secret=SECRET, now=NOW)
