"""The CDNOW data sets (they ship with the ``lifetimes`` package) and small synthetic shops."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from kinfolk.clv import summarize

CALIBRATION_END = "1997-09-30"  # 39 weeks after 1997-01-01


def lifetimes_datasets() -> Path | None:
    """Return the folder of ``lifetimes``' data files without importing the package."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets"
    return folder if (folder / "CDNOW_sample.txt").exists() else None


@pytest.fixture(scope="session")
def cdnow_folder() -> Path:
    folder = lifetimes_datasets()
    if folder is None:
        pytest.skip("the CDNOW sample ships with lifetimes: pip install lifetimes")
    return folder


@pytest.fixture(scope="session")
def cdnow_transactions(cdnow_folder):
    """Return customer ids, dates and amounts of CDNOW_sample.txt (6,919 lines, 2,357 customers).

    Columns, separated by blanks: master id, sample id, date YYYYMMDD, number of CDs, dollar value.
    """
    ids, dates, amounts = [], [], []
    for line in (cdnow_folder / "CDNOW_sample.txt").read_text().splitlines():
        _, customer, day, _, value = line.split()
        ids.append(int(customer))
        dates.append(f"{day[:4]}-{day[4:6]}-{day[6:]}")
        amounts.append(float(value))
    return np.array(ids), np.array(dates, dtype="datetime64[D]"), np.array(amounts)


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions):
    ids, dates, amounts = cdnow_transactions
    return summarize(ids, dates, amounts, calibration_end=CALIBRATION_END)


@pytest.fixture(scope="session")
def published_summary(cdnow_folder) -> dict[str, np.ndarray]:
    """Return Fader and Hardie's own summary of the sample: ID, x, t_x, T (two decimals), zbar."""
    path = cdnow_folder / "cdnow_customers_summary_with_transactions.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0]}
