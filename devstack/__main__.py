"""The local stack's commands (the Makefile calls them):

    python -m devstack run                     emulator + API + SQS workers + scheduler + Telegram sandbox
    python -m devstack aws                     only the emulator, for a plain `chalice local --stage local`
    python -m devstack tick JOB                run one scheduled handler now against the running stack
    python -m devstack sign-payment AMOUNT TO  print a signed payment webhook curl
    python -m devstack init-data [USER_ID]     print X-Telegram-Init-Data for a made-up user, signed with
                                               the token the app checks (a real bot's in real-bot mode)
    python -m devstack prune-bundle ZIP        drop runtime-provided packages from deployment.zip
    python -m devstack compile-bundle ZIP      add the bytecode of every module the app loads to deployment.zip
    python -m devstack stage-template SAM STAGE  default SecretsPath to the stage's (/tgshop/STAGE)
    python -m devstack index-wallets STACK     once after deploying the wallet-balances index (docs/operations.md)

Ports: TGSHOP_AWS_PORT (5000), TGSHOP_API_PORT (8000), TGSHOP_SANDBOX_PORT (8081). `tick` and
`sign-payment` use the running stack's ports (devstack/runstate.py) unless these variables name others.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Mapping

from devstack.localenv import PROJECT_DIR, StackError, resolve_ports


def _ports(*, running: bool = False):
    """The ports to start a stack on, or (`running`) those of the stack already running."""
    from devstack.runstate import helper_ports

    try:
        return helper_ports() if running else resolve_ports()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def command_run(args: argparse.Namespace) -> int:
    from devstack.stack import run_stack

    return run_stack(_ports(), with_app=True)


def command_aws(args: argparse.Namespace) -> int:
    from devstack.stack import run_stack

    return run_stack(_ports(), with_app=False)


def command_tick(args: argparse.Namespace) -> int:
    """One scheduled handler, invoked in this process with the local stage's environment."""
    from devstack.localenv import HOST, apply_local_environment, is_listening

    ports = _ports(running=True)
    environment = apply_local_environment(ports)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    from app import app
    from devstack.lambdas import function_settings, scheduled_jobs
    from devstack.scheduler import invoke_job

    jobs = {job.name: job for job in scheduled_jobs(app)}
    if args.job not in jobs:
        problem = "no JOB given" if not args.job else f"unknown job {args.job!r}"
        print(f"error: {problem}; the scheduled handlers are: {', '.join(sorted(jobs))}\n"
              f"usage: make tick JOB=<name>", file=sys.stderr)
        return 2
    if not is_listening(ports.aws):
        print(f"error: no AWS emulator listens on {HOST}:{ports.aws}; start the stack first with `make run` "
              "or `make aws` (the port is the running stack's, or TGSHOP_AWS_PORT)", file=sys.stderr)
        return 1
    timeout, memory = function_settings(args.job)
    result = invoke_job(jobs[args.job], environment["RESOURCE_PREFIX"], timeout_seconds=timeout, memory_mb=memory)
    print(json.dumps(result, indent=2, default=str))
    return 0


def command_sign_payment(args: argparse.Namespace) -> int:
    from chalicelib.domain.tron import is_valid_tron_address
    from devstack.examples import payment_curl
    from devstack.localenv import stage_environment

    if not is_valid_tron_address(args.to):
        print(f"error: {args.to!r} is not a TRON address (use the order's pay_to)", file=sys.stderr)
        return 2
    secret = stage_environment()["PAYMENT_WEBHOOK_SECRET"].split(",")[0]
    try:
        print(payment_curl(_ports(running=True).api_url, args.amount, args.to, secret, args.tx))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def configured_bot_token(environ: Mapping[str, str]) -> str:
    """The token the local app checks init data with: a real bot's (TGSHOP_SANDBOX=off here, or a running
    stack attached to one), else the local stage's fake one."""
    from devstack.localenv import stage_environment
    from devstack.runstate import running_stack
    from devstack.telegram_poller import real_bot_from, real_bot_token

    real = real_bot_from(environ)
    if real is not None:
        return real.token
    stack = running_stack()
    if stack is not None and stack.real_bot:
        token = real_bot_token(environ)
        if token is None:
            raise StackError("the running stack talks to your real bot, which checks init data with its own "
                             "token: export TELEGRAM_BOT_TOKEN=<your bot's token> in this shell too")
        return token
    return stage_environment()["TELEGRAM_BOT_TOKEN"]


def command_init_data(args: argparse.Namespace) -> int:
    from devstack.examples import init_data

    try:
        token = configured_bot_token(os.environ)
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(init_data(token, args.user_id))
    return 0


def command_prune_bundle(args: argparse.Namespace) -> int:
    from devstack.bundle import megabytes, prune_bundle

    path = Path(args.zip)
    if not _bundle_exists(path):
        return 2
    report = prune_bundle(path)
    print(f"{path}: {megabytes(report.before)} -> {megabytes(report.after)} "
          f"(removed {report.removed_entries} files of {', '.join(report.removed_packages) or 'nothing'}; "
          "the Lambda runtime provides them)")
    return _within_budget(path, report.after)


def command_compile_bundle(args: argparse.Namespace) -> int:
    from devstack.bundle import megabytes
    from devstack.bytecode import compile_bundle

    path = Path(args.zip)
    if not _bundle_exists(path):
        return 2
    report = compile_bundle(path)
    print(f"{path}: {megabytes(report.before)} -> {megabytes(report.after)} (bytecode of the {report.compiled} "
          f"modules the app loads, of {report.sources} sources; Lambda cannot write it at run time)")
    return _within_budget(path, report.after)


def _bundle_exists(path: Path) -> bool:
    exists = path.is_file()
    if not exists:
        print(f"error: {path} does not exist; run `make package` first", file=sys.stderr)
    return exists


def _within_budget(path: Path, size: int) -> int:
    from devstack.bundle import MAX_BUNDLE_BYTES, megabytes

    if size > MAX_BUNDLE_BYTES:
        print(f"error: {path} is {megabytes(size)}, over the {megabytes(MAX_BUNDLE_BYTES)} budget",
              file=sys.stderr)
        return 1
    return 0


def command_stage_template(args: argparse.Namespace) -> int:
    from devstack.stage_template import set_stage_defaults

    path = Path(args.template)
    if not path.is_file():
        print(f"error: {path} does not exist; run `make package` first", file=sys.stderr)
        return 2
    print(f"{path}: SecretsPath defaults to {set_stage_defaults(path, args.stage)}")
    return 0


def command_index_wallets(args: argparse.Namespace) -> int:
    from devstack.backfill import index_wallets

    given = index_wallets(args.stack, args.region, os.environ.get("AWS_ENDPOINT_URL"))
    print(f"{args.stack}: {given} wallet(s) given their wallet-balances index key")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m devstack", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="the whole local stack").set_defaults(func=command_run)
    commands.add_parser("aws", help="only the AWS emulator with tables, queues and settings").set_defaults(
        func=command_aws)
    tick = commands.add_parser("tick", help="run one scheduled handler now")
    tick.add_argument("job", nargs="?", default="", help="the handler name, e.g. expire_orders")
    tick.set_defaults(func=command_tick)
    sign = commands.add_parser("sign-payment", help="print a curl posting a signed TRC20 payment webhook")
    sign.add_argument("amount", help="USDT amount, e.g. 15.001 (the order's amount)")
    sign.add_argument("to", help="the receiving address (the order's pay_to)")
    sign.add_argument("--tx", help="transaction id (default: random)")
    sign.set_defaults(func=command_sign_payment)
    init = commands.add_parser("init-data", help="print X-Telegram-Init-Data for a made-up user")
    init.add_argument("user_id", nargs="?", type=int, default=1001)
    init.set_defaults(func=command_init_data)
    prune = commands.add_parser("prune-bundle", help="drop runtime-provided packages from deployment.zip")
    prune.add_argument("zip")
    prune.set_defaults(func=command_prune_bundle)
    compiled = commands.add_parser("compile-bundle", help="add the bytecode of the modules the app loads")
    compiled.add_argument("zip")
    compiled.set_defaults(func=command_compile_bundle)
    stage = commands.add_parser("stage-template", help="default SecretsPath to the stage's in a packaged template")
    stage.add_argument("template")
    stage.add_argument("stage")
    stage.set_defaults(func=command_stage_template)
    wallets = commands.add_parser("index-wallets", help="give older wallets their wallet-balances index key")
    wallets.add_argument("stack", help="the stack name, the tables' prefix (tgshop-prod)")
    wallets.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    wallets.set_defaults(func=command_index_wallets)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
