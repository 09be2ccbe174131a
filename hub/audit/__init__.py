"""Auditing the ledger: verification of the hash chain and the counts, and listings of the records behind a
figure, and the refusals connectors recorded (deliveries a destination refused).
"""
