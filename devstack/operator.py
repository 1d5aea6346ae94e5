"""Create a panel operator from the command line (the first owner, or any operator without the panel).

    python -m devstack.operator create NAME --role owner           against the running local stack
    python -m devstack.operator create NAME --role owner --here    with this shell's environment (a deployed
                                                                    stage: STAGE, RESOURCE_PREFIX, AWS credentials)

The password is asked for twice without echo, or read from TGSHOP_OPERATOR_PASSWORD (scripts). The audit log
records the creation with the actor `cli`."""
from __future__ import annotations

import argparse
import getpass
import os
import sys


def _password() -> str:
    supplied = os.environ.get("TGSHOP_OPERATOR_PASSWORD")
    if supplied:
        return supplied
    first = getpass.getpass("password (12 characters or more): ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("error: the passwords differ")
    return first


def _container(here: bool):
    if not here:
        from devstack.__main__ import _ports
        from devstack.localenv import PROJECT_DIR, apply_local_environment

        apply_local_environment(_ports(running=True))
        if str(PROJECT_DIR) not in sys.path:
            sys.path.insert(0, str(PROJECT_DIR))
    from chalicelib.container import get_container

    return get_container()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.operator", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an operator")
    create.add_argument("name")
    create.add_argument("--role", choices=("viewer", "operator", "owner"), default="operator")
    create.add_argument("--here", action="store_true", help="use this shell's environment, not the local stack")
    args = parser.parse_args(argv)

    from chalicelib.domain.distributors import AdminActor
    from chalicelib.domain.errors import DomainError
    from chalicelib.domain.operators import Role

    container = _container(args.here)
    try:
        operator = container.operators.create(AdminActor("cli"), args.name, Role.named(args.role), _password())
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    print(f"operator {operator.name} ({operator.role.label}) created; sign in at /panel/sign-in")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
