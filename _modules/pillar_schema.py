"""
Check a minion's pillar against a declared schema, before any state changes anything.

The schema is plain data (each formula keeps its own in ``<formula>/schema.yaml``), so it can be
read by people and rendered into an SLS. A schema node is a mapping:

``keys``
    The node is a dict; every key it may hold, each with its own node. A key not listed is an
    error unless ``open: true``.
``each`` / ``key``
    The node is a dict whose keys are free (names of accounts, paths, sysctls): every value
    must match the ``each`` node, and every key the ``key`` node (a ``str`` node) when given.
``type``
    One of ``str``, ``int``, ``port``, ``bool``, ``onoff``, ``yesno``, ``list``, ``dict``, ``path``,
    ``cidr``, ``secret``. ``onoff`` and ``yesno`` take a YAML boolean or the word itself, so
    ``server_tokens: off`` written without quotes is accepted; ``also`` lists further words
    such a setting takes (``prohibit-password`` beside yes and no).
``min`` / ``max``
    Range of an ``int``; length range of a ``str`` or ``secret``.
``pattern``
    A regular expression a ``str`` must match in full; ``describe`` says in words what it means.
``values``
    The only values allowed.
``items``
    The node every element of a ``list`` must match.
``nullable``
    ``true`` when an empty value (YAML ``null``) is allowed, meaning "derive it".

A ``secret`` is a string whose value never appears in a message.

:depends: nothing beyond Salt itself, on purpose: the module also runs under salt-ssh, whose thin
    bundle carries only Salt's own dependencies, so schema libraries such as pydantic or
    jsonschema are not there to import.

CLI Example:

.. code-block:: bash

    salt '*' pillar_schema.validate "$(cat schema.json)"
    salt '*' pillar_schema.check_formulas
"""

import ipaddress
import logging
import re

import salt.utils.yaml
from salt.exceptions import SaltInvocationError

log = logging.getLogger(__name__)

__virtualname__ = "pillar_schema"

FORMULA_SCHEMAS = (
    "validation",
    "hardening",
    "nginx",
    "certs",
    "postgres",
    "redis",
    "app",
    "monitoring",
)

_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "port": "a port number from 1 to 65535",
    "bool": "true or false",
    "onoff": "on or off",
    "yesno": "yes or no",
    "list": "a list",
    "dict": "a mapping",
    "path": "an absolute path",
    "cidr": "a network in CIDR form such as 10.0.0.0/24",
    "secret": "a secret string",
}


def __virtual__():
    return __virtualname__


# bool before int: a YAML boolean is an int to Python.
_KINDS = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "a list"),
    (dict, "a mapping"),
    (type(None), "empty"),
)


def _kind(value):
    return next((words for kind, words in _KINDS if isinstance(value, kind)), type(value).__name__)


def _show(value, node):
    if node.get("type") == "secret":
        return "<hidden>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(node):
    kind = node.get("type", "dict")
    words = node.get("describe") or _TYPE_WORDS.get(kind, kind)
    low, high = node.get("min"), node.get("max")
    if kind == "int" and low is not None and high is not None:
        words = f"an integer from {low} to {high}"
    elif kind == "int" and low is not None:
        words = f"an integer of at least {low}"
    elif kind in ("str", "secret") and low:
        words = f"{words} of at least {low} characters"
    if node.get("values"):
        words += " (one of: " + ", ".join(str(v) for v in node["values"]) + ")"
    return words


def _problem(path, value, node, expected=None):
    return (
        f"pillar {':'.join(path)} = {_show(value, node)} ({_kind(value)}): "
        f"expected {expected or _expected(node)}"
    )


def _check_scalar(path, value, node):
    kind = node.get("type", "str")
    if kind in ("int", "port"):
        low, high = (1, 65535) if kind == "port" else (node.get("min"), node.get("max"))
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (low is None or value >= low) and (high is None or value <= high)
        return [] if ok else [_problem(path, value, node)]
    if kind == "bool":
        return [] if isinstance(value, bool) else [_problem(path, value, node)]
    if kind in ("onoff", "yesno"):
        words = ("on", "off") if kind == "onoff" else ("yes", "no")
        words = (*words, *node.get("also", ()))
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in words)
        return [] if ok else [_problem(path, value, node)]
    if not isinstance(value, str):
        return [_problem(path, value, node)]
    if kind == "path" and not value.startswith("/"):
        return [_problem(path, value, node)]
    if kind == "cidr":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return [_problem(path, value, node)]
    low, high = node.get("min"), node.get("max")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        return [_problem(path, value, node)]
    if node.get("pattern") and not re.fullmatch(node["pattern"], value):
        return [_problem(path, value, node)]
    if node.get("values") and value not in node["values"]:
        return [_problem(path, value, node)]
    return []


def _check(path, value, node):
    kind = node.get("type", "dict" if "keys" in node or "each" in node else "str")
    if value is None and node.get("nullable"):
        return []
    if kind == "dict":
        if not isinstance(value, dict):
            return [_problem(path, value, node)]
        if node.get("open"):
            return []
        if "each" in node:
            return _check_each(path, value, node)
        known = node.get("keys") or {}
        problems = []
        for key in sorted(value, key=str):
            if key not in known:
                problems.append(
                    f"pillar {':'.join([*path, str(key)])} is not a known key: expected one of "
                    + ", ".join(sorted(known))
                )
                continue
            problems.extend(_check([*path, str(key)], value[key], known[key]))
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [_problem(path, value, node)]
        if node.get("min") and len(value) < node["min"]:
            return [_problem(path, value, node, f"a list of at least {node['min']} items")]
        problems = []
        for index, item in enumerate(value):
            problems.extend(_check([*path, str(index)], item, node.get("items") or {}))
        return problems
    if node.get("values") and kind not in ("str", "secret") and value not in node["values"]:
        return [_problem(path, value, node)]
    return _check_scalar(path, value, node)


def _check_each(path, value, node):
    """A dict of free keys: each key against the ``key`` node, each value against ``each``."""
    problems = []
    for key in sorted(value, key=str):
        where = [*path, str(key)]
        if "key" in node and _check_scalar(where, key, node["key"]):
            problems.append(
                f"pillar {':'.join(where)}: the key {key!r} is not valid: expected "
                + _expected(node["key"])
            )
            continue
        problems.extend(_check(where, value[key], node["each"]))
    return problems


def validate(schema, pillar=None):
    """
    Check pillar against ``schema`` and return the list of problems (empty when it is valid).

    Only the top-level keys that the schema names are checked; other pillar keys (for example
    ``mine_functions``) are left alone. Each problem is one line that names the key, the value
    (never a secret's) and what is expected.

    schema
        A mapping from top-level pillar key to schema node (see the module's documentation).

    pillar
        The data to check. Defaults to this minion's pillar.

    CLI Example:

    .. code-block:: bash

        salt '*' pillar_schema.validate '{"app": {"keys": {"workers": {"type": "int"}}}}'
    """
    if isinstance(schema, str):
        schema = salt.utils.yaml.safe_load(schema)
    if not isinstance(schema, dict):
        raise SaltInvocationError("schema must be a mapping of top-level pillar keys to nodes")
    data = __pillar__ if pillar is None else pillar
    problems = []
    for top in sorted(schema):
        if top in data:
            problems.extend(_check([top], data[top], schema[top]))
    for problem in problems:
        log.warning("invalid pillar: %s", problem)
    return problems


def load_schemas(names=FORMULA_SCHEMAS, saltenv="base"):
    """
    Read ``salt://<name>/schema.yaml`` for each formula name and merge them into one schema.

    names
        Formula folders to read. Defaults to every formula of this project.

    CLI Example:

    .. code-block:: bash

        salt '*' pillar_schema.load_schemas
    """
    schema = {}
    for name in names:
        text = __salt__["cp.get_file_str"](f"salt://{name}/schema.yaml", saltenv=saltenv)
        if not text:
            raise SaltInvocationError(f"salt://{name}/schema.yaml is missing or empty")
        schema.update(salt.utils.yaml.safe_load(text) or {})
    return schema


def check_formulas(saltenv="base"):
    """
    Validate this minion's pillar against every formula's schema; return the problems.

    CLI Example:

    .. code-block:: bash

        salt '*' pillar_schema.check_formulas
    """
    return validate(load_schemas(saltenv=saltenv))
