"""The local stack for tests and the demo: moto server with SSM sessions, and a local Slack sink.

Not part of the Lambda layer; installed in the development environment only.
"""
