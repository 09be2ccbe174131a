"""Applying MISP's per-hop rules to a MISP envelope the hub is about to deliver.

Called by the pipeline (`hub/pipeline.py`) once the release policy has let an event cross, and
again when a recorded delivery is re-sent after a crash, so both send the same bytes.
"""

from __future__ import annotations

from connectors.misp.rules import describe, release
from hub.canonical import content_hash
from schemas.envelope import MispEventEnvelope
from schemas.misp_event import MispEvent


def release_envelope(
    envelope: MispEventEnvelope, digest: str, destination: frozenset[str]
) -> tuple[MispEventEnvelope, str, str]:
    """The envelope as it may reach `destination`, its content hash, and a note of what was stripped."""
    body = envelope.payload.Event
    shaped, stripped = release(body, destination)
    if shaped is body:
        return envelope, digest, ""
    # The shaped event is a subset of one PyMISP already loaded: no need to check it again.
    payload = MispEvent.model_construct(Event=shaped)
    released = envelope.model_copy(update={"payload": payload})
    return released, content_hash(released), describe(stripped)
