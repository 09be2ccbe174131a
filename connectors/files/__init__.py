"""Files connectors: a drop directory per side into the hub, and an inbox directory of its deliveries.

drop.py       the drop directory on disk: lock, claim, bounded read, done/ and rejected/ with a reason
ready.py      when a dropped file is complete: the temporary-name convention, a lease probe, a settle time
dropped.py    a file's content as a submission (an envelope, or a STIX bundle mapped to one) and its stable id
source.py     the drop loop: claim, check, submit signed under stable ids, then file away
inbox_dir.py  the inbox directory: one file per hub-signed delivery, written atomically
service.py    `files_connector` (run by `hub up`), the loops of `hub files drop|inbox`, the start-up checks

Writers drop a file by writing it under a temporary name in the drop directory (`.NAME.tmp` or
`NAME.part`) and renaming it to NAME once complete; readers of an inbox directory skip names that
start with `.`.
"""
