"""ssm-warden's Slack side: redaction, Block Kit messages, the notifier, storm control, request
signatures and interactive buttons.

Modules, by what they do:

* ``redact``: ``redact()`` / ``sanitize()`` of attacker-controlled session text.
* ``messages``: ``build_alert()``, ``build_thread_root()``, ``build_summary()`` (pure).
* ``notifier``: ``SlackNotifier.deliver(action, outcome)``; ``default_notifier()``.
* ``transport``: incoming webhook and bot-token transports on ``slack_sdk``.
* ``threads`` / ``storm``: thread refs and storm counters in the sessions table (behind protocols).
* ``secret``: the Slack secret from Secrets Manager (Powertools Parameters).
* ``signature`` / ``interactions``: the Function URL behind the alert buttons.

Nothing is imported here, so that importing one module stays cheap.
"""
