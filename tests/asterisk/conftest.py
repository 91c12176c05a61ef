"""Real-Asterisk tests. Until tests/conftest.py registers the plugin with
`pytest_plugins = ["tests.fixtures.asterisk"]`, import its fixtures here."""

from tests.fixtures.asterisk import (ami_telephony, ari_telephony, asterisk,  # noqa: F401
                                     permit_authority, sipp, telephony)
