"""Integration tests boot real hosts; they need root and the lab's tools (``make deps``).

Booting and converging a fleet is the dearest step of the suite, so a converged fleet is shared:

- ``fleet`` (module scope): a freshly booted, unconverged topology of the module's own, named by
  its ``topology`` marker. For tests of the lab itself and of first runs.
- ``stack`` (function scope, parametrized indirectly with ``"cluster"``, ``"single"`` or
  ``"single-trixie"``): a converged fleet kept across test modules. It is booted and converged
  by the ``orch.deploy`` orchestration the first time a test asks for it, and torn down only
  when a test asks for another topology or the session ends. The collection is sorted so that
  tests of one stack run together.

A test that breaks something on a shared stack (stops a service, fills a disk) must put it back.
"""

import os

import pytest

from labkit.driver import Fleet

STACKS = {
    "cluster": ("cluster", None),
    "single": ("single", None),
    "single-trixie": ("single", "trixie"),
}

_booted = {"name": None, "fleet": None}


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="integration tests boot hosts and need root")
        for item in items:
            if "integration" in str(item.fspath):
                item.add_marker(skip)

    # Tests of one shared stack run together, in the order they were collected; tests without
    # a stack keep their place before them.
    def stack_of(item):
        spec = getattr(item, "callspec", None)
        name = spec.params.get("stack") if spec else None
        return (0, 0) if name is None else (1, list(STACKS).index(name))

    items.sort(key=stack_of)


def _release():
    if _booted["fleet"] is not None:
        fleet, _booted["fleet"], _booted["name"] = _booted["fleet"], None, None
        fleet.down()


def converged_stack(name):
    """The shared converged fleet ``name`` (a key of STACKS), booting it when needed."""
    if _booted["name"] != name:
        _release()
        topology, suite = STACKS[name]
        fleet = Fleet(topology, suite=suite)
        _booted.update(name=name, fleet=fleet)
        fleet.stack = name
        # As an operator brings up a fresh fleet: the orchestration, in dependency order.
        fleet.first, fleet.steps = fleet.orchestrate()
    return _booted["fleet"]


@pytest.fixture(scope="session", autouse=True)
def _release_shared_stack():
    yield
    _release()


@pytest.fixture
def stack(request):
    """A converged fleet shared across modules; parametrize with ``indirect=True``."""
    return converged_stack(request.param)


@pytest.fixture(scope="module")
def fleet(request):
    """One booted topology per test module (``pytestmark``'s ``topology`` marker names it)."""
    _release()
    marker = request.node.get_closest_marker("topology")
    topology = marker.args[0] if marker else "pair"
    booted = Fleet(topology)
    yield booted
    booted.down()
