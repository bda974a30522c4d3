from .bbox import *  # noqa: F401,F403
