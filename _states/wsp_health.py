"""
Wait until a host passes its health checks, or fail the run at a deadline.

A gate for orchestration and for the end of a highstate: the next step (a second host of a
rolling update, the traffic switch) runs only once this host is healthy. The state changes
nothing on the host, so it never reports changes, and a second run behaves as the first.

.. code-block:: yaml

    monitoring-host-healthy:
      wsp_health.healthy:
        - checks: [services, http]
        - deadline: 120
        - interval: 2
"""

import logging
import time

log = logging.getLogger(__name__)

__virtualname__ = "wsp_health"


def __virtual__():
    if "wsp_health.run" in __salt__:
        return __virtualname__
    return (False, "the wsp_health execution module is not loaded")


def _failures(report):
    return ", ".join(
        f"{check['name']} ({check['message']})" for check in report["checks"] if not check["ok"]
    )


def _bad_number(value, low):
    return isinstance(value, bool) or not isinstance(value, (int, float)) or value < low


def healthy(name, checks=None, deadline=60, interval=2):
    """
    Ensure the host's health checks pass, waiting for them up to ``deadline`` seconds.

    The checks run at once and then every ``interval`` seconds until they all pass (result
    true) or the deadline passes (result false, naming every check still failing and why). In
    test mode the checks run once, without waiting: the result is None and the comment says
    what the state would wait for and whether the checks pass now.

    name
        A label for the state; not used otherwise.

    checks
        Names of the checks (see ``wsp_health.run``). Defaults to every check of the host's
        roles.

    deadline
        Seconds to wait for the checks to pass. Defaults to 60.

    interval
        Seconds between two rounds of checks. Defaults to 2.

    CLI Example:

    .. code-block:: bash

        salt '*' state.single wsp_health.healthy name=stack deadline=120
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if _bad_number(deadline, 0) or _bad_number(interval, 0) or interval == 0:
        ret["comment"] = (
            f"deadline must be 0 or more seconds and interval more than 0, not {deadline!r} "
            f"and {interval!r}"
        )
        return ret
    if not checks:
        what = "every check of this host's roles"
    else:
        what = "the checks " + (checks if isinstance(checks, str) else ", ".join(map(str, checks)))

    started = time.monotonic()
    rounds = 0
    while True:
        rounds += 1
        try:
            report = __salt__["wsp_health.run"](checks=checks)
        except Exception as err:  # pylint: disable=broad-except
            ret["comment"] = f"Could not run the health checks: {err}"
            return ret
        elapsed = time.monotonic() - started

        if __opts__.get("test"):
            ret["result"] = None
            now = "they pass now" if report["ok"] else f"failing now: {_failures(report)}"
            ret["comment"] = f"Would wait up to {deadline} s for {what} to pass; {now}"
            return ret
        if report["ok"]:
            ret["result"] = True
            count = len(report["checks"])
            ret["comment"] = f"All {count} health checks pass ({what})"
            if rounds > 1:
                ret["comment"] += f", after {elapsed:.1f} s and {rounds} rounds"
            return ret
        if elapsed + interval > deadline:
            ret["comment"] = (
                f"Still failing after {elapsed:.1f} s ({rounds} rounds): {_failures(report)}"
            )
            log.warning("host not healthy after %.1f s: %s", elapsed, report["failing"])
            return ret
        time.sleep(interval)
