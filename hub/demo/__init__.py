"""Demo and test data: realistic scenarios of all three kinds, and synthetic ledger histories.

scenario.py  submissions from both sides with the decisions they must get, and the demo's keys
history.py   a synthetic ledger history over months, for report and audit benchmarks
"""
