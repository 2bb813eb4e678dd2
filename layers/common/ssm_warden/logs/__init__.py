"""Session logs as CloudWatch Logs delivers them to a subscription (``payload``)."""
