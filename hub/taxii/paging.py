"""A TAXII request's filters and page: `added_after`, `match[id|type|version|spec_version]`, `limit`, `next`.

`next` is the store's position of the last object of the page (an opaque number to the client),
so a client that sends it back with the same filters gets the objects after it, none twice and
none skipped, whatever is added meanwhile. A page holds at most MAX_PAGE objects; `limit` asks
for fewer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hub.errors import InputError
from hub.ledger.deliveries import VERSION_KEYWORDS, ObjectQuery, parse_time

MAX_PAGE = 1000  # objects per page at most: a few MiB of JSON, one quick query
DEFAULT_PAGE = 1000  # what a client that sends no `limit` gets
SPEC_VERSION = "2.1"


def _values(params: Mapping[str, Sequence[str]], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for raw in params.get(name, ()) for v in raw.split(",") if v.strip())


def limit_of(params: Mapping[str, Sequence[str]]) -> int:
    """The page size asked for, within MAX_PAGE; InputError naming `limit` when it is not a positive number."""
    given = _values(params, "limit")
    if not given:
        return DEFAULT_PAGE
    try:
        limit = int(given[0])
    except ValueError as exc:
        raise InputError(f"`limit` {given[0][:20]!r} is not a number") from exc
    if limit < 1:
        raise InputError("`limit` must be at least 1")
    return min(limit, MAX_PAGE)


def query_of(side: str, params: Mapping[str, Sequence[str]], default_versions: tuple[str, ...]) -> ObjectQuery:
    """The store query of a request's filters; InputError naming the parameter that cannot be read."""
    added = _values(params, "added_after")
    if added:
        try:
            parse_time(added[0])
        except ValueError as exc:
            raise InputError(f"`added_after` {added[0][:40]!r} is not a timestamp") from exc
    versions = _values(params, "match[version]") or default_versions
    for v in versions:
        if v not in VERSION_KEYWORDS:
            try:
                parse_time(v)
            except ValueError as exc:
                raise InputError(f"`match[version]` {v[:40]!r} is not last, first, all or a timestamp") from exc
    spec = _values(params, "match[spec_version]")
    if spec and SPEC_VERSION not in spec:
        versions = ()  # the hub serves STIX 2.1 only: nothing matches
    after = _values(params, "next")
    if after and not after[0].isdigit():
        raise InputError(f"`next` {after[0][:40]!r} is not one this server gave")
    return ObjectQuery(
        side=side,
        added_after=added[0] if added else None,
        ids=_values(params, "match[id]"),
        types=_values(params, "match[type]"),
        versions=versions,
        after_row=int(after[0]) if after else 0,
    )
