"""The read-only dashboard: JSON endpoints over the ledger and one HTML page with filters and charts."""
