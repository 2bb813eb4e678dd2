"""The session ledger: one DynamoDB item per session, written only with conditional updates."""
