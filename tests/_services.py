"""Skip tests whose system service is absent, unless CI demands every service."""

from __future__ import annotations

import os

import pytest

REQUIRE_ENV = "SHEETSYNC_REQUIRE_SERVICES"


def require(available: bool, reason: str) -> None:
    """Skip the calling test with `reason` when not `available`; fail instead under CI."""
    if available:
        return
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so this may not be skipped)")
    pytest.skip(reason)
