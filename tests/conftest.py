"""Shared test configuration: the CI strictness rule.

Outside CI a test whose prerequisite (a PostgreSQL server, a browser, ...) is
missing is skipped. With ``CI=true`` nothing may be skipped: ``require_or_skip``
fails instead, and any skip that still happens (a ``skipif`` marker,
``pytest.importorskip``, ...) is reported as a failure.

Import the helper with ``from tests.conftest import require_or_skip``.
"""

from __future__ import annotations

import os
import sys

import pytest

# Make ``from tests.conftest import ...`` resolve to this very module, whether or
# not ``tests`` is importable as a package, instead of executing the file twice.
sys.modules.setdefault("tests.conftest", sys.modules[__name__])


def in_ci() -> bool:
    """True when running under CI, where every test must run."""
    return os.environ.get("CI") == "true"


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip the current test unless ``condition`` holds; under CI, fail instead."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing prerequisite fails the test)", pytrace=False)
    pytest.skip(reason)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_if_skipped_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not in_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    report.outcome = "failed"
    report.longrepr = f"CI=true forbids skipping: {_skip_reason(report)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    _fail_if_skipped_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report: pytest.CollectReport = yield
    _fail_if_skipped_in_ci(report)
    return report


from tests.smtp_server import smtp_server  # noqa: E402, F401  (a fixture for every suite)
