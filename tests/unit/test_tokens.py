"""Signed tokens, derived secrets, PKCE and owner API keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.tokens import (
    Keyring,
    TokenError,
    api_key_matches,
    check_derived,
    derive,
    derived_token,
    hash_api_key,
    key_id,
    pkce_challenge,
    sign,
    split_api_key,
    verify,
)

KEY = Keyring("k1", {"k1": b"k" * 32})
OTHER_KEY = Keyring("k1", {"k1": b"j" * 32})
EXP = 2_000_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forged(ring: Keyring, purpose: str, body: str) -> str:
    """A token whose MAC is right for any body, to reach the checks behind the signature."""
    kid = ring.current
    mac = b64(hmac.new(ring.keys[kid], f"{purpose}.{kid}.{body}".encode(),
                       hashlib.sha256).digest())
    return f"{kid}.{body}.{mac}"


def refused(token: str, *, purpose: str = "cancel", now: float = EXP - 1,
            key: Keyring = KEY) -> TokenError:
    with pytest.raises(TokenError) as caught:
        verify(key, purpose, token, now=now)
    return caught.value


# --- sign / verify --------------------------------------------------------------------------


def test_round_trip_returns_the_claims_with_the_expiry() -> None:
    token = sign(KEY, "cancel", {"owner": "o1", "booking": "b1", "n": 3}, expires_at=EXP)
    assert verify(KEY, "cancel", token, now=EXP - 1) == {
        "owner": "o1", "booking": "b1", "n": 3, "exp": EXP}


def test_the_doctest_example() -> None:
    ring = Keyring("k1", {"k1": b"k" * 32})
    token = sign(ring, "oauth_state", {"owner": "o1"}, expires_at=1_000)
    assert verify(ring, "oauth_state", token, now=999)["owner"] == "o1"


@given(st.dictionaries(st.text(max_size=10).filter(lambda k: k != "exp"),
                       st.one_of(st.text(max_size=30), st.integers(), st.booleans()),
                       max_size=5),
       st.text(min_size=1, max_size=20), st.integers(1, 2**40))
def test_any_claims_round_trip(claims: dict[str, object], purpose: str, exp: int) -> None:
    token = sign(KEY, purpose, claims, expires_at=exp)
    assert re.fullmatch(r"k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert verify(KEY, purpose, token, now=exp - 1) == {**claims, "exp": exp}


def test_the_claims_cannot_override_the_expiry() -> None:
    token = sign(KEY, "cancel", {"exp": EXP * 10}, expires_at=EXP)
    assert verify(KEY, "cancel", token, now=0)["exp"] == EXP
    assert refused(token, now=EXP).expired


def test_a_tampered_body_is_refused() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    kid, _, mac = token.split(".")
    body = b64(json.dumps({"owner": "o2", "exp": EXP}, separators=(",", ":")).encode())
    error = refused(f"{kid}.{body}.{mac}")
    assert not error.expired


def test_a_longer_expiry_cannot_be_slipped_in() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    kid, _, mac = token.split(".")
    body = b64(json.dumps({"owner": "o1", "exp": EXP * 2}, separators=(",", ":")).encode())
    assert not refused(f"{kid}.{body}.{mac}", now=EXP + 10).expired


def test_a_tampered_mac_is_refused() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    kid, body, mac = token.split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    assert not refused(f"{kid}.{body}.{flipped}").expired
    assert not refused(f"{kid}.{body}.{mac[:-1]}").expired
    assert not refused(f"{kid}.{body}.{mac}x").expired


def test_another_purpose_is_refused() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    assert not refused(token, purpose="session").expired
    assert not refused(token, purpose="Cancel").expired


def test_another_key_is_refused() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    assert not refused(token, key=OTHER_KEY).expired


def test_expiry_is_exclusive() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    assert verify(KEY, "cancel", token, now=EXP - 0.001)["owner"] == "o1"
    error = refused(token, now=EXP)
    assert error.expired
    assert str(error) == "expired"
    assert refused(token, now=EXP + 86400).expired


def test_a_forged_token_is_refused_before_its_expiry_is_read() -> None:
    token = sign(KEY, "cancel", {"owner": "o1"}, expires_at=EXP)
    assert not refused(token, key=OTHER_KEY, now=EXP + 1).expired


def test_an_overlong_token_is_refused_even_when_well_signed() -> None:
    fits = sign(KEY, "cancel", {"pad": "x" * 2900}, expires_at=EXP)
    assert len(fits) <= 4096
    assert verify(KEY, "cancel", fits, now=0)["pad"] == "x" * 2900
    overlong = sign(KEY, "cancel", {"pad": "x" * 3100}, expires_at=EXP)
    assert len(overlong) > 4096
    error = refused(overlong)
    assert str(error) == "malformed token"


def test_token_error_is_a_value_error() -> None:
    assert issubclass(TokenError, ValueError)
    assert TokenError("x").expired is False


@pytest.mark.parametrize("token", ["", ".", "nodot", ".mac", "body.", "a" * 5000 + ".b",
                                   "k1.", "k1.body", "k1..mac", "k1.body.", "bad kid.b.m"])
def test_malformed_tokens_are_refused(token: str) -> None:
    assert not refused(token).expired


@pytest.mark.parametrize("body", [
    b64(b"not json"),
    b64(b"\xff\xfe\x00"),
    b64(b'["a list", 1]'),
    b64(b'{"owner": "o1"}'),
    b64(b'{"exp": "2000000000"}'),
    b64(b'{"exp": 2000000000.5}'),
    b64(b"null"),
    "!!!",
])
def test_well_signed_bodies_that_are_not_claims_are_refused(body: str) -> None:
    error = refused(forged(KEY, "cancel", body))
    assert str(error) == "malformed token"
    assert not error.expired


# --- key ids and rotation -------------------------------------------------------------------

ROTATED = Keyring("k2", {"k2": b"n" * 32, "k1": b"k" * 32})


def test_the_current_key_signs_and_names_itself() -> None:
    token = sign(ROTATED, "cancel", {}, expires_at=EXP)
    assert key_id(token) == "k2"
    assert verify(ROTATED, "cancel", token, now=0) == {"exp": EXP}


def test_a_previous_key_still_in_the_ring_verifies() -> None:
    old = sign(KEY, "cancel", {"o": 1}, expires_at=EXP)
    assert verify(ROTATED, "cancel", old, now=0)["o"] == 1


def test_a_key_id_not_in_the_ring_is_refused_as_unknown() -> None:
    token = sign(ROTATED, "cancel", {}, expires_at=EXP)
    error = refused(token)
    assert error.unknown_key and str(error) == "signed by an unknown key"


def test_a_token_relabelled_with_another_key_id_is_refused() -> None:
    kid, body, mac = sign(KEY, "cancel", {}, expires_at=EXP).split(".")
    assert not refused(f"k2.{body}.{mac}", key=ROTATED).unknown_key


@pytest.mark.parametrize("current, keys", [
    ("k3", {"k1": b"k" * 32}),
    ("k1", {"k1": b"short"}),
    ("bad id", {"bad id": b"k" * 32}),
])
def test_a_keyring_must_be_usable(current: str, keys: dict[str, bytes]) -> None:
    with pytest.raises(ValueError):
        Keyring(current, keys)


def test_derived_tokens_carry_their_key_id_and_survive_a_rotation() -> None:
    token = derived_token(KEY, "channel.c1")
    assert token.startswith("k1.")
    assert check_derived(KEY, "channel.c1", token)
    assert check_derived(ROTATED, "channel.c1", token)  # within the grace period
    assert not check_derived(ROTATED, "channel.c2", token)
    assert not check_derived(Keyring("k2", {"k2": b"n" * 32}), "channel.c1", token)
    assert not check_derived(KEY, "channel.c1", "garbage")
    assert not check_derived(KEY, "channel.c1", token + "x")


# --- derive / PKCE --------------------------------------------------------------------------


def test_derive_is_deterministic_per_label_and_key() -> None:
    first = derive(KEY, "pkce.attempt-1")
    assert derive(KEY, "pkce.attempt-1") == first
    assert derive(KEY, "pkce.attempt-2") != first
    assert derive(OTHER_KEY, "pkce.attempt-1") != first


def test_derived_secrets_are_valid_pkce_verifiers() -> None:
    # RFC 7636 4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", derive(KEY, "any label"))


def test_derive_differs_from_a_mac_of_the_label() -> None:
    # A derived secret must not be a token MAC another purpose could produce for the label.
    plain = b64(hmac.new(KEY.keys["k1"], b"label", hashlib.sha256).digest())
    assert derive(KEY, "label") != plain


# RFC 7636 appendix B: the 32 random octets, the verifier they encode, and its S256 challenge.
RFC_OCTETS = bytes([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
                    22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121])
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_challenge_matches_rfc_7636_appendix_b() -> None:
    assert b64(RFC_OCTETS) == RFC_VERIFIER
    assert pkce_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_pkce_challenge_has_no_padding() -> None:
    challenge = pkce_challenge(derive(KEY, "attempt"))
    assert len(challenge) == 43
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge)


# --- API keys -------------------------------------------------------------------------------


def test_hash_api_key_is_sha256_hex() -> None:
    assert hash_api_key("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert re.fullmatch(r"[0-9a-f]{64}", hash_api_key("s" * 40))


def test_api_key_matches_its_own_hash_only() -> None:
    secret = "s3cr3t" * 8
    stored = hash_api_key(secret)
    assert api_key_matches(secret, stored)
    assert not api_key_matches(secret + "x", stored)
    assert not api_key_matches(secret, hash_api_key("other" * 8))
    assert not api_key_matches(secret, stored.upper())
    assert not api_key_matches(secret, "")


def test_split_api_key() -> None:
    secret = "A" * 32
    assert split_api_key(f"bk_owner1_{secret}") == ("owner1", secret)
    # The secret is everything after the owner id, underscores included.
    assert split_api_key(f"bk_owner1_{secret}_tail") == ("owner1", f"{secret}_tail")


@pytest.mark.parametrize("key", [
    "",
    "bk",
    "bk_",
    "bk_owner1",
    "bk_owner1_",
    "bk__" + "A" * 32,
    "bk_owner1_" + "A" * 31,
    "sk_owner1_" + "A" * 32,
    "BK_owner1_" + "A" * 32,
    "owner1_" + "A" * 32,
])
def test_malformed_api_keys_are_refused(key: str) -> None:
    with pytest.raises(TokenError, match="malformed API key"):
        split_api_key(key)
