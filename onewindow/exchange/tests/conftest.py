# The case fixtures (a small catalogue, halls and personas) are shared with the cases tests.
from onewindow.cases.tests.conftest import shop  # noqa: F401
