"""Patient-portal connector: token checks (pinned algorithm, audience, expiry), CORS and body
rules as parts, and against the real assistant: forged tokens, no cross-channel reach, CORS."""

from __future__ import annotations

import base64
import json
import urllib.parse
from types import SimpleNamespace
from typing import Any

import pytest

from bot.settings import load_settings
from channels import kit
from channels.portal import PortalInput, PortalRefusal, cors_headers, read_body, verify_token
from tests.channels.adapters import (
    AUDIENCE,
    PORTAL_PATH,
    PORTAL_SECRET,
    PortalAdapter,
    SmsAdapter,
    new_number,
    portal_token,
)
from tests.channels.contract import http
from tests.e2e.harness import RunningAssistant

ORIGIN = "https://portal.example-clinic.org"


def hs_settings() -> Any:
    return load_settings({"CLINIC_DOTENV": "0", "PORTAL_JWT_SECRET": PORTAL_SECRET, "PORTAL_JWT_AUDIENCE": AUDIENCE})


def rs_settings(public_pem: str) -> Any:
    return load_settings({"CLINIC_DOTENV": "0", "PORTAL_JWT_PUBLIC_KEY": public_pem, "PORTAL_JWT_AUDIENCE": AUDIENCE})


def unsigned_token(subject: str) -> str:
    """An ``alg: none`` token (no signature)."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': subject, 'aud': AUDIENCE, 'exp': 4102444800})}."


def refusal(authorization: Any, settings: Any) -> tuple[int, str]:
    with pytest.raises(PortalRefusal) as caught:
        verify_token(authorization, settings)
    return caught.value.status, caught.value.code


def test_a_valid_token_proves_its_subject() -> None:
    assert verify_token(f"Bearer {portal_token('P-1001')}", hs_settings()) == "P-1001"


def test_forged_and_faulty_tokens_get_precise_codes(rsa_keys: tuple[str, str]) -> None:
    settings = hs_settings()
    assert refusal(None, settings) == (401, "missing_token")
    assert refusal("", settings) == (401, "missing_token")
    assert refusal(f"Basic {portal_token('P-1001')}", settings) == (401, "missing_token")
    assert refusal("Bearer not.a.jwt", settings) == (401, "invalid_token")
    assert refusal(f"Bearer {portal_token('P-1001', expires_in=-120)}", settings) == (401, "expired_token")
    assert refusal(f"Bearer {portal_token('P-1001', audience='billing-app')}", settings) == (401, "wrong_audience")
    assert refusal(f"Bearer {portal_token('P-1001', audience=None)}", settings) == (401, "wrong_audience")
    assert refusal(f"Bearer {portal_token('P-1001', key='another-secret-0123456789abcdef0123')}", settings) == (
        401,
        "invalid_token",
    )
    assert refusal(f"Bearer {unsigned_token('P-1001')}", settings) == (401, "invalid_token")
    assert refusal(f"Bearer {portal_token('P-1001', key=rsa_keys[0], algorithm='RS256')}", settings) == (
        401,
        "invalid_token",
    )
    assert refusal(f"Bearer {portal_token('P-1001', key=PORTAL_SECRET * 2, algorithm='HS512')}", settings) == (
        401,
        "invalid_token",
    )
    assert refusal(f"Bearer {portal_token('')}", settings) == (401, "invalid_token")


def test_token_without_exp_or_sub_is_refused() -> None:
    import jwt

    no_exp = jwt.encode({"sub": "P-1001", "aud": AUDIENCE}, PORTAL_SECRET, algorithm="HS256")
    no_sub = jwt.encode({"aud": AUDIENCE, "exp": 4102444800}, PORTAL_SECRET, algorithm="HS256")
    assert refusal(f"Bearer {no_exp}", hs_settings()) == (401, "invalid_token")
    assert refusal(f"Bearer {no_sub}", hs_settings()) == (401, "invalid_token")


def test_rs256_tokens_and_the_hs_rs_confusion_attack(rsa_keys: tuple[str, str]) -> None:
    private, public = rsa_keys
    settings = rs_settings(public)
    assert verify_token(f"Bearer {portal_token('P-1002', key=private, algorithm='RS256')}", settings) == "P-1002"
    # The classic confusion: an HS256 token "signed" with the public key as the HMAC secret.
    import hashlib
    import hmac

    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    claims = base64.urlsafe_b64encode(
        json.dumps({"sub": "P-1002", "aud": AUDIENCE, "exp": 4102444800}).encode()
    ).rstrip(b"=")
    mac = hmac.new(public.encode(), header + b"." + claims, hashlib.sha256).digest()
    forged = (header + b"." + claims + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    assert refusal(f"Bearer {forged}", settings) == (401, "invalid_token")
    assert refusal(f"Bearer {unsigned_token('P-1002')}", settings) == (401, "invalid_token")


def test_not_configured_is_a_503() -> None:
    assert refusal(f"Bearer {portal_token('P-1001')}", load_settings({"CLINIC_DOTENV": "0"})) == (
        503,
        "portal_not_configured",
    )


async def test_not_configured_endpoint_answers_503_json_without_the_assistant() -> None:
    async def never_called(_: Any) -> None:
        raise AssertionError("the assistant must not be reached")

    request = SimpleNamespace(
        method="POST",
        headers={"Authorization": f"Bearer {portal_token('P-1001')}"},
        body=b'{"message": "hi"}',
    )
    answer = await PortalInput(load_settings({"CLINIC_DOTENV": "0"}))._receive(request, never_called)
    assert answer.status == 503
    assert json.loads(answer.body)["error"] == "portal_not_configured"


def test_cors_only_for_allowed_origins() -> None:
    settings = load_settings({"CLINIC_DOTENV": "0", "WEBCHAT_ALLOWED_ORIGINS": ORIGIN})
    assert cors_headers(None, settings) == {}
    assert cors_headers(ORIGIN, settings)["Access-Control-Allow-Origin"] == ORIGIN
    with pytest.raises(PortalRefusal) as caught:
        cors_headers("https://evil.example", settings)
    assert (caught.value.status, caught.value.code) == (403, "origin_not_allowed")


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1, 2]", b'{"text": "hi"}', b'{"message": 5}', b'{"message": "hi", "message_id": ""}']
)
def test_malformed_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(PortalRefusal) as caught:
        read_body(raw)
    assert (caught.value.status, caught.value.code) == (400, "invalid_body")


def test_the_body_cannot_choose_the_conversation() -> None:
    message, message_id = read_body(
        b'{"message": "hi", "sender": "sms:abc", "conversation_id": "x", "message_id": "m1"}'
    )
    assert (message, message_id) == ("hi", "m1")


# --- end to end ----------------------------------------------------------------


@pytest.fixture
def portal(channel_assistant: RunningAssistant) -> PortalAdapter:
    """The portal widget talking to the running assistant."""
    return PortalAdapter(channel_assistant)


@pytest.mark.e2e
def test_forged_tokens_are_refused_end_to_end(portal: PortalAdapter, rsa_keys: tuple[str, str]) -> None:
    subject = portal.new_sender()
    cases = {
        "missing_token": None,
        "expired_token": portal_token(subject, expires_in=-120),
        "wrong_audience": portal_token(subject, audience="billing-app"),
        "invalid_token": portal_token(subject, key="another-secret-0123456789abcdef0123"),
    }
    for code, token in cases.items():
        reply = portal.post({"message": "show my appointments"}, token)
        assert reply.status == 401, code
        assert reply.raw["error"] == code and reply.raw["reason"].endswith(".")
    for token in (unsigned_token(subject), portal_token(subject, key=rsa_keys[0], algorithm="RS256")):
        reply = portal.post({"message": "show my appointments"}, token)
        assert (reply.status, reply.raw["error"]) == (401, "invalid_token")
    assert portal.user_events(subject) == []


@pytest.mark.e2e
def test_hs_rs_confusion_is_refused_by_an_rs256_instance(
    second_instance: RunningAssistant, rsa_keys: tuple[str, str]
) -> None:
    rs = PortalAdapter(second_instance, key=rsa_keys[0], algorithm="RS256")
    subject = rs.new_sender()
    assert rs.send(subject, "hi").status == 200
    for token in (portal_token(subject), unsigned_token(subject)):  # HS256 with the shared secret, alg none
        reply = rs.post({"message": "show my appointments"}, token)
        assert (reply.status, reply.raw["error"]) == (401, "invalid_token")
    assert [e["text"] for e in rs.user_events(subject)] == ["hi"]


@pytest.mark.e2e
def test_portal_messages_carry_the_proven_record_id(portal: PortalAdapter) -> None:
    subject = portal.new_sender()
    portal.send(subject, "hi")
    [event] = portal.user_events(subject)
    assert event["input_channel"] == "portal"
    claim = dict(event["metadata"][kit.CHANNEL_IDENTITY_KEY])
    assert len(claim.pop("sig")) == 64  # signed by the connector; the actions check it
    assert claim == {"kind": "portal", "record_id": subject}


@pytest.mark.e2e
def test_no_caller_reaches_another_channels_conversation(
    portal: PortalAdapter, channel_assistant: RunningAssistant
) -> None:
    sms = SmsAdapter(channel_assistant)
    number = new_number()
    sms.send(number, "hi")
    # A portal caller whose token names the SMS number, or whose body names the SMS conversation.
    portal.post({"message": "show my appointments", "sender": sms.conversation_id(number)}, portal.token(number))
    portal.post({"message": "show my appointments", "sender": sms.conversation_id(number)}, portal.token("P-1001"))
    assert [e["text"] for e in sms.user_events(number)] == ["hi"]
    assert [e["text"] for e in portal.user_events(number)] == ["show my appointments"]
    assert portal.conversation_id(number) != sms.conversation_id(number)
    # And an SMS from a number that looks like a record id stays in SMS.
    assert sms.conversation_id("P-1001") != portal.conversation_id("P-1001")


@pytest.mark.e2e
def test_malformed_body_gets_a_400(portal: PortalAdapter) -> None:
    subject = portal.new_sender()
    reply = portal.post(b"{not json", portal.token(subject))
    assert (reply.status, reply.raw["error"]) == (400, "invalid_body")
    assert portal.user_events(subject) == []


@pytest.mark.e2e
def test_cors_preflight_and_answers_for_allowed_origins_only(portal: PortalAdapter) -> None:
    url = portal.assistant.rasa_url + PORTAL_PATH
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    status, headers, _ = http("OPTIONS", url, None, preflight)
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in headers["access-control-allow-headers"].lower()
    assert "POST" in headers["access-control-allow-methods"]
    status, headers, _ = http("OPTIONS", url, None, {**preflight, "Origin": "https://evil.example"})
    assert status == 403 and "access-control-allow-origin" not in headers
    subject = portal.new_sender()
    body = json.dumps({"message": "hi"}).encode()
    auth = {"Authorization": f"Bearer {portal.token(subject)}", "Content-Type": "application/json"}
    status, headers, _ = http("POST", url, body, {**auth, "Origin": ORIGIN})
    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
    status, headers, raw = http("POST", url, body, {**auth, "Origin": "https://evil.example"})
    assert status == 403 and json.loads(raw)["error"] == "origin_not_allowed"
    assert [e["text"] for e in portal.user_events(subject)] == ["hi"]


async def test_outside_the_demo_a_missing_channel_secret_is_a_503_not_a_guess() -> None:
    async def never_called(_: Any) -> None:
        raise AssertionError("the assistant must not be reached")

    settings = load_settings(
        {"CLINIC_DOTENV": "0", "CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "t", "PORTAL_JWT_SECRET": PORTAL_SECRET}
    )
    request = SimpleNamespace(
        method="POST", headers={"Authorization": f"Bearer {portal_token('P-1001')}"}, body=b'{"message": "hi"}'
    )
    answer = await PortalInput(settings)._receive(request, never_called)
    assert answer.status == 503 and "CHANNEL_ID_SECRET" in json.loads(answer.body)["reason"]


@pytest.mark.e2e
def test_portal_logs_hold_no_tokens_record_ids_or_texts(portal: PortalAdapter) -> None:
    subject = portal.new_sender()
    token = portal.token(subject)
    portal.post({"message": "my private question quokka"}, token)
    portal.post({"message": "forged walrus"}, portal_token(subject, key="another-secret-0123456789abcdef0123"))
    logs = portal.assistant.logs()
    assert subject not in logs and token not in logs
    assert "quokka" not in logs and "walrus" not in logs
    assert PORTAL_SECRET not in logs


@pytest.mark.e2e
def test_staff_replies_reach_the_portal_widget_through_updates(portal: PortalAdapter) -> None:
    subject = portal.new_sender()
    portal.send(subject, "hi")
    conversation = urllib.parse.quote(portal.conversation_id(subject), safe=":")
    events = [
        {
            "event": "bot",
            "text": "Hi, this is Maria at the front desk.",
            "metadata": {"staff": True, "out_of_band": True},
        },
        {"event": "bot", "text": "not out of band", "metadata": {}},
    ]
    status, _, body = http(
        "POST",
        f"{portal.assistant.rasa_url}/conversations/{conversation}/tracker/events?output_channel=latest",
        json.dumps(events).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200, body
    url = f"{portal.assistant.rasa_url}/webhooks/portal/updates"
    status, _, body = http("GET", url + "?after=0", None, {"Authorization": f"Bearer {portal.token(subject)}"})
    answer = json.loads(body)
    assert status == 200 and [m["text"] for m in answer["messages"]] == ["Hi, this is Maria at the front desk."]
    status, _, body = http(
        "GET", f"{url}?after={answer['latest']}", None, {"Authorization": f"Bearer {portal.token(subject)}"}
    )
    assert json.loads(body)["messages"] == []
    # Another patient's token sees nothing of it; no token is refused.
    other = portal.new_sender()
    status, _, body = http("GET", url + "?after=0", None, {"Authorization": f"Bearer {portal.token(other)}"})
    assert json.loads(body)["messages"] == []
    status, _, body = http("GET", url + "?after=0")
    assert status == 401 and json.loads(body)["error"] == "missing_token"
    status, _, body = http("GET", url + "?after=yesterday", None, {"Authorization": f"Bearer {portal.token(subject)}"})
    assert status == 400 and json.loads(body)["error"] == "invalid_query"
