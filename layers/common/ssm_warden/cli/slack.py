"""``ssm-warden slack test``: is the Slack setup right? The secret's form and content, the bot's token
and scopes, and (unless ``--no-post``) a test message in the default channel, which also proves the
bot is a member of it. Webhooks post to their own channel: per-scope ``channel`` settings of the
policy are ignored with a webhook (only a bot token can choose channels and threads).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from typing import Any

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, add_aws_options, add_format, emit_json, plain

REQUIRED_SCOPES = ("chat:write",)
GROUP_SCOPE = "usergroups:read"  # to expand user-group ids (S...) in SlackAllowedUserIds


@dataclass(frozen=True)
class Probe:
    check: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


def register(sub: Any) -> None:
    parser = sub.add_parser("slack", help="test the Slack setup (secret, token, scopes, a test message)")
    actions = parser.add_subparsers(dest="slack_command", required=True, metavar="ACTION")
    test = actions.add_parser(
        "test", help="check the Slack secret and post a test message", description=plain(__doc__)
    )
    test.add_argument("--secret", help="the Slack secret's name (default: the stack's SlackSecretName)")
    test.add_argument("--no-post", action="store_true", help="check without posting a test message")
    add_aws_options(test)
    add_format(test)
    test.set_defaults(run=_run)


def _api_url() -> str | None:
    # Tests and the local stack point Slack at the local sink, as the functions' SLACK_API_URL does.
    base = os.environ.get("SLACK_API_URL")
    if not base:
        return None
    base = base.rstrip("/")
    return base + "/" if base.endswith("/api") else base + "/api/"


def probe_slack(ctx: Any, secret_name: str | None, *, post: bool, allowed_ids: str = "") -> list[Probe]:
    """What works and what does not in the Slack setup; never raises for a Slack or secret problem."""
    from pydantic import ValidationError

    from ssm_warden.slack.secret import SlackSecret

    if not secret_name:
        return [Probe("secret", False, "no SlackSecretName: alerts go to the executor's log only")]
    if secret_name.startswith("arn:"):
        return [Probe("secret", False, "SlackSecretName is an ARN: deploy with the secret's name")]
    sm = ctx.client("secretsmanager")
    try:
        raw = sm.get_secret_value(SecretId=secret_name)["SecretString"]
        secret = SlackSecret.model_validate(json.loads(raw))
    except sm.exceptions.ResourceNotFoundException:
        return [Probe("secret", False, f"no secret named {secret_name} in {ctx.region}")]
    except (ValueError, ValidationError):
        return [Probe("secret", False, f"secret {secret_name} is not a JSON object with Slack's keys")]
    if not secret.bot_token and not secret.webhook_url:
        return [Probe("secret", False, f"secret {secret_name} has neither bot_token nor webhook_url")]
    probes = [Probe("secret", True, f"{secret_name}: {secret.mode} mode")]
    if not secret.signing_secret:
        probes.append(Probe("buttons", False, "no signing_secret: alert buttons cannot be verified"))
    if secret.bot_token and secret.signing_secret and not allowed_ids.strip():
        probes.append(Probe("buttons", False, "SlackAllowedUserIds is empty: nobody may press a button"))
    if secret.bot_token:
        probes.extend(
            _probe_bot(secret, post=post, needs_groups="S" in {i.strip()[:1] for i in allowed_ids.split(",")})
        )
    elif post:
        probes.append(_probe_webhook(secret))
    return probes


def _probe_bot(secret: Any, *, post: bool, needs_groups: bool) -> list[Probe]:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(
        token=secret.bot_token.get_secret_value(), base_url=_api_url() or WebClient.BASE_URL, timeout=10
    )
    probes = []
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        return [Probe("token", False, f"auth.test refused the bot token: {exc.response.get('error')}")]
    except OSError as exc:
        return [Probe("token", False, f"Slack unreachable: {exc}")]
    probes.append(Probe("token", True, f"bot {response.get('user')} in team {response.get('team')}"))
    header = {k.lower(): v for k, v in (response.headers or {}).items()}.get("x-oauth-scopes")
    if header is None:
        probes.append(Probe("scopes", True, "Slack did not list the token's scopes"))
    else:
        scopes = {s.strip() for s in str(header).split(",")}
        missing = [s for s in REQUIRED_SCOPES if s not in scopes] + (
            [GROUP_SCOPE] * (needs_groups and GROUP_SCOPE not in scopes)
        )
        probes.append(
            Probe("scopes", not missing, f"missing {', '.join(missing)}" if missing else "chat:write present")
        )
    if post:
        channel = secret.default_channel or "#ssm-warden"
        try:
            client.chat_postMessage(channel=channel, text="ssm-warden slack test: alerts will arrive here.")
            probes.append(Probe("channel", True, f"posted a test message to {channel}"))
        except SlackApiError as exc:
            error = exc.response.get("error")
            fix = " (invite the bot: /invite @your-app)" if error == "not_in_channel" else ""
            probes.append(Probe("channel", False, f"cannot post to {channel}: {error}{fix}"))
    return probes


def _probe_webhook(secret: Any) -> Probe:
    from slack_sdk.webhook import WebhookClient

    try:
        response = WebhookClient(secret.webhook_url.get_secret_value(), timeout=10).send(
            text="ssm-warden slack test: alerts will arrive here (a webhook posts to its own channel)."
        )
    except OSError as exc:
        return Probe("webhook", False, f"Slack unreachable: {exc}")
    if response.status_code == 200:
        return Probe("webhook", True, "posted a test message through the webhook")
    return Probe(
        "webhook", False, f"the webhook refused the post: HTTP {response.status_code} {response.body}"
    )


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.cli.options import CliError

    ctx = AwsContext.from_args(args)
    try:
        parameters = ctx.stack_parameters()
    except CliError:
        if not args.secret:
            raise
        parameters = {}
    name = args.secret or parameters.get("SlackSecretName")
    allowed = parameters.get("SlackAllowedUserIds", "" if not args.secret else "(not deployed)")
    probes = probe_slack(ctx, name, post=not args.no_post, allowed_ids=allowed)
    for probe in probes:
        if args.format == "json":
            emit_json(probe.as_dict())
        else:
            print(f"{'OK' if probe.ok else 'FAIL':<6}{probe.check:<10}{probe.detail}")
    return EXIT_OK if all(p.ok for p in probes) else EXIT_FINDING
