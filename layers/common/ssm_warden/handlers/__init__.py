"""Entry-point adapters: what each Lambda function does with one event, with logs and metrics.

``functions/<name>/app.py`` imports one of these on first invocation and calls ``handle``.
"""
