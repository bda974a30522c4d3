from .cyclegan import *  # noqa: F401,F403
