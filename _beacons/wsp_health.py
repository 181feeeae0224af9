"""
Alert events from the host's health checks (``wsp_health``), once per crossing, with hysteresis.

At each beacon interval the checks of ``wsp_health.run`` are taken. A check that fails fires one
``alert`` event; while it stays failed nothing more is sent. It fires one ``recovered`` event
when it passes again, and a measured check (CPU, memory, disk) only once its value is back past
its threshold by ``margin`` points, so a value that hovers at the threshold does not make a storm
of events. The tag names the check and the change::

    salt/beacon/<minion>/wsp_health/alert/service:postgresql
    salt/beacon/<minion>/wsp_health/recovered/disk:/srv
    salt/beacon/<minion>/wsp_health/alert/cert:/etc/nginx/tls/acoustic-lab/fullchain.pem

With ``certs: true`` the certificates of ``wsp_cert.check`` count as checks too: one that is
critical (fewer days left than ``monitoring:certs:crit_days``), expired or unreadable fails.

The data carries the check's result (name, value, threshold, unit, message) and ``state``.

Why a beacon of our own: Salt's ``diskusage`` and ``memusage`` beacons fire at every interval
while over their threshold and never say when a value recovers, there is no core beacon for CPU
use sustained over a window, and the ``service`` beacon covers services only. This one keeps one
set of thresholds (pillar ``monitoring:thresholds``) for the checks, the alerts and the fleet
report alike.

:depends: the ``wsp_health`` execution module of this project.

Configuration (in pillar or the minion config):

.. code-block:: yaml

    beacons:
      wsp_health:
        - interval: 10
        - checks: [cpu, memory, disk, services]
        - margin: 5
        - certs: true
"""

import logging

log = logging.getLogger(__name__)

__virtualname__ = "wsp_health"

MEASURED_UNITS = {"%", "% free"}
CONTEXT_KEY = "wsp_health_beacon.failing"


def __virtual__():
    if "wsp_health.run" not in __salt__:
        return (False, "wsp_health beacon: the wsp_health execution module is not loaded")
    return __virtualname__


def _config(config):
    merged = {}
    for item in config or []:
        if isinstance(item, dict):
            merged.update(item)
    return merged


def validate(config):
    """Check the beacon's configuration: a list of one-key mappings."""
    if not isinstance(config, list):
        return False, "wsp_health beacon: the configuration must be a list"
    conf = _config(config)
    checks = conf.get("checks")
    if checks is not None and not (
        isinstance(checks, list) and all(isinstance(c, str) and c for c in checks)
    ):
        return False, f"wsp_health beacon: checks must be a list of check names, not {checks!r}"
    margin = conf.get("margin", 5)
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin <= 50:
        return False, f"wsp_health beacon: margin must be a number from 0 to 50, not {margin!r}"
    if not isinstance(conf.get("certs", False), bool):
        return False, f"wsp_health beacon: certs must be true or false, not {conf['certs']!r}"
    return True, "valid"


def _recovered(result, margin):
    """Whether a passing check is far enough from its threshold to call it recovered."""
    value, threshold = result.get("value"), result.get("threshold")
    if result.get("unit") not in MEASURED_UNITS or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, threshold)
    ):
        return True
    return abs(value - threshold) >= margin


def _certificate_results(report):
    """wsp_cert's certificates as check results: ok unless critical, expired or unreadable."""
    results = []
    for cert in report.get("certificates", []):
        days = cert.get("days_left_int")
        results.append(
            {
                "name": f"cert:{cert.get('source')}",
                "ok": cert.get("status") in ("ok", "warning"),
                "value": days,
                "threshold": report.get("crit_days"),
                "unit": "days",
                "message": cert.get("message") or f"{cert.get('status')}, {days} days left",
                "serial": cert.get("serial"),
            }
        )
    return results


def beacon(config):
    """Run the checks; return an event for each check that crossed into or out of failure."""
    conf = _config(config)
    margin = conf.get("margin", 5)
    checks = conf.get("checks")
    try:
        results = __salt__["wsp_health.run"](checks=checks).get("checks", [])
        if conf.get("certs"):
            results += _certificate_results(__salt__["wsp_cert.check"]())
    except Exception as err:  # noqa: BLE001 - a beacon must not die; say why and go on
        log.warning("wsp_health beacon: the checks did not run: %s", err)
        return []

    failing = __context__.setdefault(CONTEXT_KEY, set())
    events = []
    for result in results:
        name = result["name"]
        if not result["ok"] and name not in failing:
            failing.add(name)
            log.warning("health alert: %s: %s", name, result.get("message"))
            events.append(dict(result, tag=f"alert/{name}", state="alert"))
        elif result["ok"] and name in failing and _recovered(result, margin):
            failing.discard(name)
            log.info("health recovered: %s: %s", name, result.get("message"))
            events.append(dict(result, tag=f"recovered/{name}", state="recovered"))
    return events
