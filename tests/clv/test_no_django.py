"""``kinfolk.clv`` stands alone: NumPy and SciPy, never Django."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import kinfolk.clv

SCRIPT = """
import sys
import kinfolk.clv
import kinfolk.clv.cli
from kinfolk.clv import fit, score, summarize

summary = summarize([1, 1, 2], ["2024-01-01", "2024-02-01", "2024-01-05"], [5.0, 6.0, 7.0])
score(fit(summary), summary)
loaded = sorted(name for name in sys.modules if name == "django" or name.startswith("django."))
print(",".join(loaded) or "none")
"""


def test_importing_and_using_clv_does_not_import_django():
    # A fresh interpreter: this test process has Django loaded by pytest-django already.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=False, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_no_module_of_the_package_imports_django():
    """Not even inside a function, where the import test above would not see it."""
    folder = Path(kinfolk.clv.__file__).parent
    sources = sorted(folder.glob("*.py"))
    assert len(sources) >= 8
    importing = re.compile(r"^\s*(import|from)\s+django\b|import_module\(.django", re.MULTILINE)
    for source in sources:
        assert not importing.search(source.read_text()), source.name
