"""Security Hub: every ssm-warden finding and termination as an ASFF finding, and the custom action
"Terminate SSM session" that enters the same action queue as a Slack button (docs/keyless.md)."""
