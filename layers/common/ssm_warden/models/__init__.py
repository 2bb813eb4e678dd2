"""pydantic models at every boundary: incoming events, ledger records, policies, action requests."""
