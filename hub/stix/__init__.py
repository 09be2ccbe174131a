"""STIX 2.1: the hub's items as STIX objects and back, for TAXII and the files connectors.

markings.py  TLP 2.0 marking definitions and the envelope's TLP as `object_marking_refs`
report.py    an assessment or a stratcom note as a `report` (+ identity, DISARM attack patterns) and back
misp.py      a MISP event through misp-stix, MISP's own converter, with TLP 2.0 markings
convert.py   the entry points: a delivered envelope to STIX objects, a bundle to an envelope
"""
