"""The test harness does what CI relies on: the future-clock run really moves the clock."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import CLOCK_SHIFT


@pytest.mark.skipif(not os.environ.get(CLOCK_SHIFT), reason="only in the future-clock run")
def test_the_future_clock_run_moves_the_wall_clock_ahead():
    import time_machine

    shift = time.time() - time_machine.escape_hatch.time.time()
    days = int(os.environ[CLOCK_SHIFT])
    assert abs(shift - days * 86400) < 3600, shift
