"""Test-session settings.

``SCIPY_ARRAY_API=1`` must be set before scipy is first imported so that scikit-learn's
``check_array_api_input`` runs (with numpy inputs and array-API dispatch enabled) instead of
being skipped.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
