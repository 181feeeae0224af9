"""
Stop a highstate before it changes anything when the pillar does not fit the schema.

Put the state first (``order: 1``) with ``failhard: True``: Salt then runs nothing after a
failure, so a wrong pillar value changes nothing on the host. The check reads and writes
nothing on the host, so ``test=True`` gives the same verdict as a real run.

.. code-block:: yaml

    pillar-validated:
      pillar_schema.validated:
        - order: 1
        - failhard: True
"""

__virtualname__ = "pillar_schema"


def __virtual__():
    if "pillar_schema.validate" in __salt__:
        return __virtualname__
    return (False, "the pillar_schema execution module is not loaded")


def validated(name, schema=None, formulas=None):
    """
    Ensure the minion's pillar fits the schema.

    name
        A label for the state; not used otherwise.

    schema
        The schema mapping. When omitted, the ``schema.yaml`` of each formula in ``formulas``
        is read from the file server.

    formulas
        Formula folders whose schemas to read when ``schema`` is omitted. Defaults to all of
        this project's formulas.

    CLI Example:

    .. code-block:: bash

        salt '*' state.single pillar_schema.validated name=pillar-validated
    """
    ret = {"name": name, "result": True, "changes": {}, "comment": ""}
    try:
        if schema is None:
            load_args = {"names": formulas} if formulas else {}
            schema = __salt__["pillar_schema.load_schemas"](**load_args)
        problems = __salt__["pillar_schema.validate"](schema)
    except Exception as err:  # pylint: disable=broad-except
        ret["result"] = False
        ret["comment"] = f"Could not check the pillar: {err}"
        return ret
    if problems:
        ret["result"] = False
        ret["comment"] = "Invalid pillar, nothing was changed:\n" + "\n".join(problems)
    else:
        ret["comment"] = "The pillar fits the schema"
    return ret
