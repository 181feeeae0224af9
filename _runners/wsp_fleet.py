"""
The fleet seen from the master: a health table of every host, and alerts sent to a webhook.

``health`` asks every targeted minion for its health checks (``wsp_health.run``) and its
certificates (``wsp_cert.check``) in one job each, and prints one row per host: its roles, each
check that failed (or ``ok``), and the days left on every certificate it watches.

``notify`` posts one alert (or recovery) as JSON to the webhook in the minion's pillar
(``monitoring:notify:webhook``); the reactor calls it for every health event.

:depends: the ``wsp_health`` and ``wsp_cert`` execution modules on the minions.

CLI Example:

.. code-block:: bash

    salt-run wsp_fleet.health
    salt-run wsp_fleet.health tgt='G@roles:db' tgt_type=compound
"""

import json
import logging

import salt.client
import salt.utils.http
from salt.exceptions import SaltInvocationError

log = logging.getLogger(__name__)

__virtualname__ = "wsp_fleet"


def __virtual__():
    return __virtualname__


def _cmd(tgt, tgt_type, fun, timeout, arg=()):
    with salt.client.get_local_client(__opts__["conf_file"]) as client:
        return client.cmd(tgt, fun, list(arg), tgt_type=tgt_type, timeout=timeout)


def health(tgt="*", tgt_type="glob", timeout=30):
    """
    Print a table of the fleet's health: host, roles, failed checks, days left on certificates.

    tgt
        Which minions. Defaults to ``*``.

    tgt_type
        How ``tgt`` matches (``glob``, ``compound``, ``list``, ...). Defaults to ``glob``.

    timeout
        Seconds to wait for the minions. Defaults to 30.

    CLI Example:

    .. code-block:: bash

        salt-run wsp_fleet.health
        salt-run wsp_fleet.health tgt='G@roles:web' tgt_type=compound
    """
    checks = _cmd(tgt, tgt_type, "wsp_health.run", timeout)
    certs = _cmd(tgt, tgt_type, "wsp_cert.check", timeout)
    roles = _cmd(tgt, tgt_type, "grains.get", timeout, arg=["roles"])

    rows, table = [], []
    for minion in sorted(set(checks) | set(certs) | set(roles)):
        report = checks.get(minion)
        if isinstance(report, dict):
            failed = [c["name"] for c in report.get("checks", []) if not c["ok"]]
            latency = report.get("seconds")
        else:
            failed, latency = ["no answer"], None
        cert_report = certs.get(minion)
        days = {}
        if isinstance(cert_report, dict):
            for cert in cert_report.get("certificates", []):
                days[cert.get("source")] = cert.get("days_left_int", cert.get("status"))
        row = {
            "host": minion,
            "roles": roles.get(minion) or [],
            "ok": not failed,
            "failed": failed,
            "seconds": latency,
            "certificates": days,
        }
        rows.append(row)
        table.append(
            f"{minion:<10} {','.join(row['roles']) or '-':<16} "
            f"{'ok' if row['ok'] else 'FAIL ' + ', '.join(failed):<40} "
            + (", ".join(f"{name}: {d} d" for name, d in days.items()) or "-")
        )
    header = f"{'host':<10} {'roles':<16} {'checks':<40} certificates (days left)"
    print("\n".join([header, *table]))
    return {"ok": all(r["ok"] for r in rows), "hosts": rows}


def notify(minion, tag, event=None, timeout=10):
    """
    Post one health event as JSON to the webhook in the minion's pillar.

    minion
        The minion the event came from.

    tag
        The event's tag.

    event
        The event's data (a mapping). Defaults to an empty one.

    timeout
        Seconds the webhook may take. Defaults to 10.

    CLI Example:

    .. code-block:: bash

        salt-run wsp_fleet.notify db1 salt/beacon/db1/wsp_health/alert/service:postgresql
    """
    if not isinstance(minion, str) or not minion:
        raise SaltInvocationError(f"minion must be a minion ID, not {minion!r}")
    pillar = __salt__["pillar.show_pillar"](minion)
    url = (pillar.get("monitoring") or {}).get("notify", {}).get("webhook")
    if not url:
        log.info("notify: %s has no monitoring:notify:webhook; %s not sent", minion, tag)
        return {"sent": False, "reason": "no webhook in pillar"}
    body = {"minion": minion, "tag": tag, "event": event or {}}
    result = salt.utils.http.query(
        url,
        method="POST",
        data=json.dumps(body),
        header_dict={"Content-Type": "application/json"},
        status=True,
        timeout=timeout,
        opts=__opts__,
    )
    status = result.get("status")
    if status is None or status >= 300:
        log.warning("notify: webhook answered %s for %s: %s", status, tag, result.get("error"))
        return {"sent": False, "status": status, "reason": result.get("error")}
    log.info("notify: %s sent for %s (%s)", tag, minion, status)
    return {"sent": True, "status": status}
