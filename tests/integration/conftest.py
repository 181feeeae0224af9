"""Integration tests boot real hosts; they need root and the lab's tools (``make deps``)."""

import os

import pytest

from labkit.driver import Fleet


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="integration tests boot hosts and need root")
        for item in items:
            if "integration" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="module")
def fleet(request):
    """One booted topology per test module (``pytestmark``'s ``topology`` marker names it)."""
    marker = request.node.get_closest_marker("topology")
    topology = marker.args[0] if marker else "pair"
    booted = Fleet(topology)
    yield booted
    booted.down()
