"""The pure core: plain functions over the contracts, no I/O, testable without an event loop.

canonical.py     RFC 8785 canonical JSON and the content hash
validate.py      raw bytes to an envelope, or a rejection naming the field and the problem
keys.py          registered public keys and the keyring (the files are hub.config.keystore's)
signing.py       signature verdicts (Trust) and signing (Signer), over the exact bytes sent
admit.py         the way in: submission id, signature, then validation (trust before any parse)
replay.py        sealed replays: a decided id answers only for the message digest recorded with it
dedupe.py        identity, version and ownership: new, update, duplicate, not-owner, future-version
policy.py        the release policy: what may cross, fail closed; one check per reading of markings
misp_release.py  MISP's sharing rules at every level of an event, applied to what crosses
tag.py           machine tags; DISARM and taxonomy checks
decision.py      the five decisions and one submission's outcome
disclosure.py    what of a refused item the shared topics may show: nothing unless openly marked
route.py         the topics and the bytes each decision produces
delivery.py      the hub's signature over each inbox message, and its check by the sinks
decide.py        a batch decided given what the ledger knows (`decide_all`)
"""
