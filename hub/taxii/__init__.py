"""The hub's TAXII 2.1 server: one API root per side, its inbox to read and its submissions collection to write.

media.py        TAXII's media types, Accept and Content-Type negotiation, error bodies
auth.py         who is asking: an organisation's API token (Bearer, Token or Basic), or the inbox page's cookie
paging.py       the filters (added_after, match[...]) and pages (limit, next) of a request
collections.py  discovery, API roots, collections, objects, manifests and versions, from the delivery store
submissions.py  a POSTed envelope turned into signed submissions to `hub.submitted`
status.py       a status resource, following the hub's decisions in the ledger
service.py      what the routes share: the ledger under a lock, the signing keys, the publisher
app.py          the routes
"""
