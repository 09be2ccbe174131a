"""Auditing the ledger: verification of the hash chain and the counts, listings of the records behind a
figure, and synthetic histories for tests and benchmarks.
"""
