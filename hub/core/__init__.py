"""The pure core: plain functions over the contracts, no I/O, testable without an event loop.

canonical.py     RFC 8785 canonical JSON and the content hash
validate.py      raw bytes to an envelope, or a rejection naming the field and the problem
keys.py          registered public keys and the keyring (the files are hub.config.keystore's)
signing.py       signature verdicts (Trust) and signing (Signer)
dedupe.py        identity and version: new, update or duplicate
policy.py        the release policy: what may cross, fail closed
misp_release.py  MISP's sharing rules below event level, applied to what crosses
tag.py           machine tags; DISARM and taxonomy checks
decision.py      the five decisions and one submission's outcome
route.py         the topics and the bytes each decision produces
decide.py        a batch decided given what the ledger knows (`decide_all`)
"""
