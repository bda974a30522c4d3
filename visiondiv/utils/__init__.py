from .config_check import ConfigCheckError, check_config
from .setup_env import apply_cli_args, build_runner, register_all_modules

__all__ = ["apply_cli_args", "build_runner", 'register_all_modules', 'check_config', 'ConfigCheckError']
