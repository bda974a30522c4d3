from .config_check import ConfigCheckError, check_config
from .setup_env import build_runner, register_all_modules

__all__ = ['build_runner', 'register_all_modules', 'check_config', 'ConfigCheckError']
