"""``ssm-warden preflight``: check an account and region for what ssm-warden needs, before deploying.

Read-only, with your credentials and region: a CloudTrail trail logging management events; Session
Manager preferences streaming to the session-log group; the group exists with a free
subscription-filter slot; the managed nodes' instance roles may write to it, their agents stream,
and private subnets have a CloudWatch Logs endpoint; the group's KMS key lets CloudWatch Logs use
it; the Lambda concurrency quota leaves room for the template's reservations; the Slack secret is
given by name. Each failed check prints the command that fixes it. Exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, add_aws_options, add_format, emit_json, plain

DEFAULT_LOG_GROUP = "/aws/ssm/sessions"
# Reserved concurrency template.yaml asks for (executor 5, Slack interactions 2, sweeper 1, Security Hub
# custom action 2), used when
# no template file is at hand; a unit test keeps it equal to the template's.
TEMPLATE_RESERVED = 10


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "preflight",
        help="check the account for ssm-warden's prerequisites (read-only) and print the fixes",
        description=plain(__doc__),
    )
    parser.add_argument(
        "--log-group",
        help="the session-log group (default: the deployed stack's SessionManagerLogGroupName, "
        f"else {DEFAULT_LOG_GROUP})",
    )
    parser.add_argument(
        "--slack-secret", help="the SlackSecretName you deploy with (default: the deployed stack's)"
    )
    parser.add_argument(
        "--template", help="template.yaml whose reserved concurrency to check (default: ./template.yaml)"
    )
    add_aws_options(parser)
    add_format(parser)
    parser.set_defaults(run=_run)


def template_reserved(path: Path | None) -> int:
    """The sum of the template's ReservedConcurrentExecutions."""
    if path is None or not path.is_file():
        return TEMPLATE_RESERVED
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    return sum(
        int((r.get("Properties") or {}).get("ReservedConcurrentExecutions") or 0)
        for r in (template.get("Resources") or {}).values()
        if isinstance(r, dict) and r.get("Type") == "AWS::Serverless::Function"
    )


def _deployed(ctx: Any) -> tuple[dict[str, str], list[str]]:
    """The deployed stack's parameters and function names; nothing when it is not deployed yet."""
    from ssm_warden.cli.aws import describe_aws_error
    from ssm_warden.cli.options import CliError

    try:
        parameters = ctx.stack_parameters()
        pages = (
            ctx.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=ctx.stack)
        )
        functions = [
            r["PhysicalResourceId"]
            for page in pages
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::Lambda::Function" and r.get("PhysicalResourceId")
        ]
    except CliError:  # not deployed yet
        return {}, []
    except Exception as exc:  # may not read CloudFormation: check the account without the stack's values
        if describe_aws_error(exc) is None:
            raise
        return {}, []
    return parameters, functions


def _run(args: argparse.Namespace) -> int:
    from ssm_warden.cli.aws import AwsContext
    from ssm_warden.preflight.checks import Status, blocking, run_checks
    from ssm_warden.preflight.collect import collect

    ctx = AwsContext.from_args(args)
    region = ctx.region
    ctx.client("sts").get_caller_identity()  # no credentials: one clear error instead of nine unknowns
    parameters, functions = _deployed(ctx)
    log_group = args.log_group or parameters.get("SessionManagerLogGroupName") or DEFAULT_LOG_GROUP
    template = Path(args.template) if args.template else Path("template.yaml")
    if args.template and not template.is_file():
        from ssm_warden.cli.options import CliError

        raise CliError(f"no template at {template}")
    facts = collect(
        ctx.client,
        region=region,
        log_group=log_group,
        slack_secret=args.slack_secret or parameters.get("SlackSecretName") or None,
        template_reserved=template_reserved(template),
        stack_functions=functions,
    )
    results = run_checks(facts)
    if args.format == "json":
        for result in results:
            emit_json(result.model_dump(mode="json"))
    else:
        print(f"ssm-warden preflight: account {facts.account or '?'}, {region}, session logs in {log_group}")
        for result in results:
            print(f"{result.status.value.upper():<8}{result.check:<22}{result.found}")
            if result.fix and result.status is not Status.PASS:
                print(f"{'':<30}fix: {result.fix}")
        failed = sum(r.status is Status.FAIL for r in results)
        unknown = sum(r.status is Status.UNKNOWN for r in results)
        verdict = f"{failed} check(s) failed: fix them before deploying" if failed else "ready to deploy"
        print(f"{verdict}" + (f" ({unknown} could not be read)" if unknown else ""))
    return EXIT_FINDING if blocking(results) else EXIT_OK
