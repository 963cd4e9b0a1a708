"""What a channel proves about its caller, signed so that only our connectors can say it.

A connector that has verified something (the portal's signed token names the
patient's record; Twilio's signed webhook names the sender's number) passes it
to the actions in message metadata. Metadata is not trusted by itself: Rasa's
socket.io channel copies whatever the browser sends into it. So the connector
signs the claim with the channel secret (HMAC-SHA256), and the actions accept a
claim only when the signature holds and the message came in on the channel the
claim names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.settings import Settings, get_settings

CHANNEL_IDENTITY_KEY = "channel_identity"
"""Message metadata key under which a connector passes what the channel proves."""

_SECRET_FILE = "channel_id_secret"


class ChannelNotConfigured(RuntimeError):
    """A setting the channel needs is missing; the message names it (never a value)."""


def channel_secret(settings: Settings | None = None) -> bytes:
    """The channel key: ``CHANNEL_ID_SECRET``, or in the demo one kept under ``var/``.

    The demo key is made once and stored with owner-only permissions, so ids and
    signatures stay the same across restarts, processes and Rasa instances on
    one machine. Outside the demo the setting is required.
    """
    settings = settings or get_settings()
    if settings.channel_id_secret:
        return settings.channel_id_secret.encode("utf-8")
    if not settings.demo_mode:
        raise ChannelNotConfigured(
            "CHANNEL_ID_SECRET is not set: channel conversation ids and identities cannot be made"
        )
    path = Path(settings.var_dir) / _SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def keyed_hash(value: str, purpose: str, settings: Settings | None = None) -> str:
    """An opaque, stable stand-in for ``value`` (a phone number, a record id).

    ``purpose`` keeps hashes of the same value apart when they serve different
    jobs (a conversation id is not an opt-out key).
    """
    digest = hmac.new(channel_secret(settings), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _signature(claim: Mapping[str, Any], settings: Settings | None) -> str:
    """HMAC of the claim's fields in a canonical form."""
    body = json.dumps({k: v for k, v in claim.items() if k != "sig"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(channel_secret(settings), f"identity\x00{body}".encode(), hashlib.sha256).hexdigest()


def identity_metadata(kind: str, settings: Settings | None = None, **proven: Any) -> dict[str, Any]:
    """Signed metadata that tells the actions what the channel itself has proven.

    ``kind`` is the channel name. Examples:
    ``identity_metadata("portal", record_id="P-1001")`` (a verified portal patient),
    ``identity_metadata("sms", phone="+15555550123")`` (the sender's number).
    """
    claim: dict[str, Any] = {"kind": kind, **proven}
    claim["sig"] = _signature(claim, settings)
    return {CHANNEL_IDENTITY_KEY: claim}


def proven_identity(
    metadata: Mapping[str, Any] | None,
    input_channel: str | None,
    kind: str,
    settings: Settings | None = None,
) -> dict[str, Any] | None:
    """The claim of ``kind`` in ``metadata`` if it is signed by us and came in on that channel."""
    if not metadata or input_channel != kind:
        return None
    claim = metadata.get(CHANNEL_IDENTITY_KEY)
    if not isinstance(claim, Mapping) or claim.get("kind") != kind or not isinstance(claim.get("sig"), str):
        return None
    try:
        expected = _signature(claim, settings)
    except (ChannelNotConfigured, TypeError, ValueError):
        return None
    if not hmac.compare_digest(expected, claim["sig"]):
        return None
    return {k: v for k, v in claim.items() if k != "sig"}
