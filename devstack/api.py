"""`chalice local --stage local` on a chosen port, for the local stack's API process.

Chalice local overwrites os.environ with the stage's variables from .chalice/config.json, which would
undo the sandbox's port and a real bot's token. This does what `chalice local` does (load the config and
the app, validate the routes, serve with Chalice's local server) and then sets the emulator and sandbox
URLs for the ports from TGSHOP_*_PORT. The app reads its settings on the first request, so that is early
enough.

    python -m devstack.api [--port N] [--parent-pid PID]
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time


def _exit_with_parent(parent_pid: int) -> None:
    """A runner killed without cleaning up must not leave this server holding its port."""
    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    from devstack.localenv import HOST, PROJECT_DIR, STAGE, StackError, port_overrides, resolve_ports

    parser = argparse.ArgumentParser(prog="python -m devstack.api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="API port (default: TGSHOP_API_PORT or 8000)")
    parser.add_argument("--parent-pid", type=int, help="exit when this process goes away")
    args = parser.parse_args(argv)
    try:
        ports = resolve_ports()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    port = args.port or ports.api
    if args.parent_pid:
        _exit_with_parent(args.parent_pid)

    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    # The same stdout logging `chalice local` configures.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    os.chdir(PROJECT_DIR)
    factory = CLIFactory(str(PROJECT_DIR), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=STAGE)
    app = config.chalice_app  # imports app.py after putting the stage's variables into os.environ
    os.environ.update(port_overrides(ports))
    os.environ.update(ports.as_environment())
    validate_routes(app.routes)
    server = factory.create_local_server(app, config, HOST, port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
