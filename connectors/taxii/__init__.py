"""The TAXII source connector: polls a TAXII 2.1 collection (with the OASIS taxii2-client) and submits what is new.

source.py   the collection read page by page from a saved `added_after` watermark; hub reports become submissions
service.py  the connector built from `[[connectors]] type = "taxii"` and run supervised by `hub up`
"""
