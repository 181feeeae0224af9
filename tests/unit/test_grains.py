"""The host grains, on DMI and meminfo files written for each case."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("wsp_host", REPO / "_grains" / "wsp_host.py")
grains = importlib.util.module_from_spec(spec)
spec.loader.exec_module(grains)


def dmi(tmp_path, product="", vendor=""):
    (tmp_path / "product_name").write_text(product + "\n")
    (tmp_path / "bios_vendor").write_text(vendor + "\n")
    return str(tmp_path)


@pytest.mark.parametrize(
    ("product", "vendor", "expected"),
    [
        ("Google Compute Engine", "Google", "gce"),
        ("", "Google", "gce"),
        ("Standard PC (Q35 + ICH9, 2009)", "SeaBIOS", "none"),
        ("HVM domU", "Xen", "none"),
    ],
)
def test_cloud_is_read_from_dmi(tmp_path, product, vendor, expected):
    assert grains.cloud(dmi(tmp_path, product, vendor)) == {"cloud": expected}


def test_cloud_is_none_without_dmi(tmp_path):
    """A container (the lab's hosts) shows no DMI data at all."""
    assert grains.cloud(str(tmp_path / "missing")) == {"cloud": "none"}


def meminfo(tmp_path, mib):
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal:       {mib * 1024} kB\nMemFree:        1 kB\n")
    return str(path)


@pytest.mark.parametrize(
    ("cpus", "mib", "workers", "meets"),
    [
        (1, 2048, 3, True),  # the protocol's minimum: 2 x 1 + 1 workers
        (2, 4096, 5, True),
        (8, 2048, 12, True),  # memory, not CPUs, limits: 2048 * 3/4 / 128
        (1, 1024, 3, False),
        (4, 512, 3, False),
    ],
)
def test_sizing(tmp_path, cpus, mib, workers, meets):
    size = grains.sizing(meminfo(tmp_path, mib), cpus=cpus)["sizing"]
    assert size == {
        "cpus": cpus,
        "mem_mib": mib,
        "gunicorn_workers": workers,
        "meets_minimum": meets,
    }


def test_sizing_reads_this_machine():
    size = grains.sizing()["sizing"]
    assert size["cpus"] >= 1 and size["mem_mib"] > 0 and size["gunicorn_workers"] >= 1
