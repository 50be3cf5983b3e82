from tests.builders.orders import *  # noqa: F401,F403
