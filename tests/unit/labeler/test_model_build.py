"""The model build's step runner: progress on long steps, readable failures."""

import io
import sys

import pytest

from autotagger.errors import UserError
from autotagger.models.build import Progress, _run


def test_given_slow_step_when_run_then_progress_says_it_is_still_going():
    out = io.StringIO()
    _run([sys.executable, "-c", "import time; time.sleep(0.6)"], "converting", Progress(1, out), heartbeat=0.2)
    assert "still converting" in out.getvalue()


def test_given_failing_step_when_run_then_user_error_shows_the_tool_output():
    with pytest.raises(UserError, match=r"converting failed \(exit 3\):\nno such layer"):
        _run([sys.executable, "-c", "import sys; sys.stderr.write('no such layer\\n'); sys.exit(3)"], "converting")


def test_given_missing_tool_when_run_then_user_error_names_it():
    with pytest.raises(UserError, match="not found"):
        _run(["/nonexistent/npm", "pack"], "fetching")


def test_given_steps_when_reported_then_numbered_with_elapsed_time():
    out = io.StringIO()
    progress = Progress(2, out)
    progress("Fetching")
    progress("Converting")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[1/2] Fetching (t+") and lines[1].startswith("[2/2] Converting (t+")
