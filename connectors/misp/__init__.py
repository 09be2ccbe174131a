"""MISP connectors: REST API and feed directory sources and sinks (MISP's sharing rules are hub.core's).

envelope.py     a MISP event in a hub submission envelope
watermark.py    a source's saved progress
client.py       PyMISP off the event loop: retries, backoff, errors translated
feed.py         the feed directory format: manifest.json plus one <uuid>.json per event
rest_source.py  incremental pull from a MISP instance
feed_source.py  new and changed events of a feed directory
rest_sink.py    add, edit-if-newer into a MISP instance
feed_sink.py    events written into a feed directory
sync.py         the loops: source -> hub.submitted, <side>.inbox -> sink
service.py      connectors built from the settings, run by `hub up` and `hub misp`
"""
