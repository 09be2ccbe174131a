"""Hub-signed deliveries: the hub's Ed25519 signature over what it puts in an inbox, and its check by a sink.

No topic is trusted for what it holds: without ACLs anyone can write `nato.inbox`. So the hub signs
every inbox message with its own key (`hub.config.keystore.hub_signer`), over the destination side,
the submission id and the delivered bytes, in the headers `hub-key` and `hub-sig`; a sink applies a
delivery only when `verify_delivery` finds that signature by a hub key of its keyring. Binding the
side means a genuine delivery copied into the other side's inbox is refused too.

    headers = delivery_headers(hub, "NATO", sid, value)
    verify_delivery(keyring.hub, "NATO", value, headers)  # None: apply it; else why not
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping

from nacl.exceptions import BadSignatureError

from hub.core.keys import HubKey
from hub.core.route import SID_HEADER
from hub.core.signing import KEY_HEADER, SIG_HEADER, SIGNATURE_BYTES, Signer

DELIVERY_CONTEXT = (
    b"hub-delivery/1"  # domain separation: a delivery signature is never a valid signature of anything else
)


def delivery_message(side: str, submission_id: str, value: bytes) -> bytes:
    """What the hub signs for one inbox message (ids and sides hold no NUL byte, so the fields cannot shift)."""
    return b"\0".join((DELIVERY_CONTEXT, side.encode(), submission_id.encode(), value))


def delivery_headers(hub: Signer, side: str, submission_id: str, value: bytes) -> list[tuple[str, bytes]]:
    """`hub-key` and `hub-sig` for one delivery into `side`'s inbox."""
    signature = hub.private_key.sign(delivery_message(side, submission_id, value))
    return [(KEY_HEADER, hub.key_id.encode()), (SIG_HEADER, base64.b64encode(signature))]


def _one(headers: Iterable[tuple[str, bytes | None]], name: str) -> bytes | None:
    found = [bytes(v or b"") for k, v in headers if k == name]
    return found[0] if len(found) == 1 else None


def verify_delivery(
    hub_keys: Mapping[str, HubKey], side: str, value: bytes, headers: Iterable[tuple[str, bytes | None]]
) -> str | None:
    """None when `value` is a delivery the hub signed for `side`'s inbox; otherwise why it must not be applied."""
    pairs = list(headers)
    sid, kid, sig = (_one(pairs, n) for n in (SID_HEADER, KEY_HEADER, SIG_HEADER))
    if kid is None and sig is None and not any(k in (KEY_HEADER, SIG_HEADER) for k, _ in pairs):
        return "unsigned: the hub signs every delivery; this one was not written by the hub"
    if sid is None or kid is None or sig is None:
        return f"needs exactly one `{SID_HEADER}`, `{KEY_HEADER}` and `{SIG_HEADER}` header"
    key = hub_keys.get(kid.decode("utf-8", "replace"))
    if key is None:
        return f"key {kid[:40].decode('utf-8', 'replace')!r} is not a hub key in this keyring"
    try:
        signature = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != SIGNATURE_BYTES:
        return f"`{SIG_HEADER}` is not a base64 Ed25519 signature"
    try:
        key.verify_key.verify(delivery_message(side, sid.decode("utf-8", "replace"), value), signature)
    except BadSignatureError:
        return f"the hub's signature does not match this delivery for {side} (forged, altered or for the other side)"
    return None
