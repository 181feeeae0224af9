"""``./lab``: boot throwaway Debian hosts with a salt-master, and drive them (up, add, status,
salt, salt-run, salt-ssh, ssh, shell, down)."""

import argparse
import os
import sys
import time

from labkit import image, lab, master, paths
from labkit.util import LabError


def _passthrough(tool):
    def handler(args):
        os.execv(master.salt_cmd(tool, [])[0], master.salt_cmd(tool, args.rest))

    return handler


def cmd_up(args):
    lab.up(args.topology, suite=args.suite, environment=args.environment)
    _print_status()


def cmd_add(args):
    roles = [r for r in args.roles.split(",") if r]
    lab.add(args.host, roles, args.address, suite=args.suite)
    _print_status()


def cmd_down(_args):
    lab.preflight()
    started = time.monotonic()
    lab.teardown()
    print(f"lab: down: everything the lab made is gone ({time.monotonic() - started:.1f} s)")


def cmd_status(_args):
    if not _print_status():
        print("the lab is down")


def _print_status():
    rows = lab.status()
    if rows:
        print(f"{'host':<10} {'address':<15} {'suite':<9} {'running':<8} {'minion':<8} roles")
    for row in rows:
        print(
            f"{row['name']:<10} {row['address']:<15} {row['suite']:<9} "
            f"{'yes' if row['running'] else 'no':<8} {row['minion']:<8} "
            f"{','.join(row['roles']) or '-'}"
        )
    return rows


def cmd_ssh(args):
    host = lab.find_host(args.host)
    os.execvp(
        "ssh",
        [
            "ssh",
            "-i",
            str(paths.SSH_KEY),
            "-o",
            f"UserKnownHostsFile={paths.RUN / 'ssh/known_hosts'}",
            f"{image.ADMIN_USER}@{host.address}",
            *args.rest,
        ],
    )


def cmd_shell(args):
    host = lab.find_host(args.host)
    leader = host.leader()
    if leader is None:
        raise LabError(f"host {args.host} is not running")
    command = args.rest or ["/bin/bash", "-l"]
    os.execvp("nsenter", ["nsenter", "-t", str(leader), "-a", *command])


def build_parser():
    parser = argparse.ArgumentParser(prog="lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="boot a topology (tears down any earlier lab first)")
    p.add_argument(
        "--topology",
        default="cluster",
        help=f"one of {', '.join(lab.topology_names())} (default cluster)",
    )
    p.add_argument(
        "--suite",
        choices=("bookworm", "trixie"),
        help="boot every host from this Debian suite (default: the topology's)",
    )
    p.add_argument("--environment", default="staging", choices=("staging", "production"))
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("add", help="boot one more host into the running lab")
    p.add_argument("host")
    p.add_argument("--roles", default="", help="comma-separated, e.g. app or web,app")
    p.add_argument("--address", required=True, help="in 198.18.0.0/25, as in topology files")
    p.add_argument("--suite", choices=("bookworm", "trixie"), help="default: the first host's")
    p.set_defaults(func=cmd_add)
    sub.add_parser("down", help="stop and remove everything the lab made").set_defaults(
        func=cmd_down
    )
    sub.add_parser("status", help="hosts, addresses, roles, minions").set_defaults(func=cmd_status)
    for tool in ("salt", "salt-run", "salt-ssh", "salt-key", "salt-cp"):
        p = sub.add_parser(tool, help=f"{tool} against the lab's master", add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=_passthrough(tool))
    for name, func in (("ssh", cmd_ssh), ("shell", cmd_shell)):
        p = sub.add_parser(name, help=f"{name} into a host (ssh as the admin, shell as root)")
        p.add_argument("host")
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(func=func)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LabError as err:
        print(f"lab: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
