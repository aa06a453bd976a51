"""Test-session settings.

``SCIPY_ARRAY_API=1`` must be set before scipy is first imported so that scikit-learn's
``check_array_api_input`` runs (with numpy inputs and array-API dispatch enabled) instead of
being skipped.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_abandoned_native_calls():
    """After a test that interrupts a LAPACK/Qhull call (Ctrl-C tests), wait for the abandoned
    call to end, so that its memory and cores do not bleed into the next test's measurements."""
    yield
    from skinterp._parallel import wait_for_abandoned_calls

    wait_for_abandoned_calls()
