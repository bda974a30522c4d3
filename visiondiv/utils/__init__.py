from .config_check import ConfigCheckError, check_config
from .setup_env import register_all_modules

__all__ = ['register_all_modules', 'check_config', 'ConfigCheckError']
