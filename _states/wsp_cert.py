"""
Ensure a certificate, a file or a live endpoint, is valid for at least a number of days.

The state checks; it does not renew. Renewal belongs to certbot's timer and, when a
certificate crosses its critical threshold, to the reactor: a certificate that is too close
to its end fails the run, with the days it has left, so that the run's output says so.

The check reads a file or makes one TLS handshake and changes nothing, so ``test=True``
gives the same verdict as a real run (a certificate too close to its end fails in test mode
too: the real run would fail) and the state never reports changes.

.. code-block:: yaml

    monitoring-site-cert-valid:
      wsp_cert.valid_for:
        - name: /etc/nginx/tls/acoustic-lab/fullchain.pem
        - days: 14

    monitoring-site-endpoint-valid:
      wsp_cert.valid_for:
        - name: 127.0.0.1:443
        - endpoint: True
        - server_name: app.example.test
        - days: 14
"""

import datetime

__virtualname__ = "wsp_cert"


def __virtual__():
    if "wsp_cert.check" in __salt__:
        return __virtualname__
    return (False, "the wsp_cert execution module is not loaded")


def valid_for(name, days=30, endpoint=False, server_name=None, cafile=None, timeout=5):
    """
    Ensure the certificate at ``name`` is valid for at least ``days`` more days.

    Fails (result false) with the days left when the certificate ends sooner, has expired,
    is not valid yet, or cannot be read or fetched; with a ``cafile`` also when the endpoint's
    certificate does not verify. Nothing is renewed or changed.

    name
        Absolute path of a certificate file, or ``host:port`` of a TLS endpoint when
        ``endpoint`` is true.

    days
        The fewest days of validity that pass. Defaults to 30.

    endpoint
        Read ``name`` as ``host:port`` (or ``[address]:port``) and check the certificate the
        endpoint presents. Defaults to false.

    server_name
        For an endpoint: the name sent in the handshake (SNI). Defaults to the host.

    cafile
        For an endpoint: also verify its certificate against these CAs. Defaults to no
        verification (days left only).

    timeout
        For an endpoint: seconds to wait for the handshake. Defaults to 5.

    CLI Example:

    .. code-block:: bash

        salt '*' state.single wsp_cert.valid_for /etc/nginx/tls/acoustic-lab/fullchain.pem days=14
        salt '*' state.single wsp_cert.valid_for 127.0.0.1:443 endpoint=True days=14
    """
    ret = {"name": name, "result": False, "changes": {}, "comment": ""}
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        ret["comment"] = f"days must be a number of 0 or more, not {days!r}"
        return ret
    prefix = "(test) " if __opts__.get("test") else ""

    if endpoint:
        target = {"host": name, "timeout": timeout}
        target.update({k: v for k, v in (("server_name", server_name), ("cafile", cafile)) if v})
        targets = {"paths": [], "endpoints": [target]}
    else:
        targets = {"paths": [name], "endpoints": []}
    try:
        spec = __salt__["wsp_cert.check"](**targets)["certificates"][0]
    except Exception as err:  # pylint: disable=broad-except
        ret["comment"] = f"{prefix}Could not check the certificate {name}: {err}"
        return ret

    if spec["status"] == "error":
        ret["comment"] = f"{prefix}{spec['message']}"
        return ret
    left = spec["days_left"]
    until = f"until {spec['not_after']}"
    not_before = datetime.datetime.fromisoformat(spec["not_before"])
    if not_before > datetime.datetime.now(datetime.UTC):
        ret["comment"] = f"{prefix}Certificate {name} is not valid before {spec['not_before']}"
    elif spec.get("verified") is False:
        ret["comment"] = (
            f"{prefix}Certificate of {name} does not verify ({spec['verify_error']}); "
            f"{left:.1f} days left, {until}"
        )
    elif left < days:
        state = "has expired" if left <= 0 else f"has {left:.1f} days left, {until}"
        ret["comment"] = (
            f"{prefix}Certificate {name} {state}: fewer than the {days} days required. "
            "This state does not renew it; certbot's timer and the reactor do."
        )
    else:
        ret["result"] = True
        ret["comment"] = (
            f"{prefix}Certificate {name} is valid for {left:.1f} more days, {until} "
            f"(at least {days} required)"
        )
    return ret
