"""The fixtures of this folder's tests, from tests/builders (the one place for them)."""

from tests.builders.chat import *  # noqa: F401,F403
