"""The CLI tests use the deploy tests' in-process CLI fixtures."""

from tests.deploy.conftest import cli, deployed  # noqa: F401
