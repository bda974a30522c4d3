from .cli import apply_cli_args, load_config, make_parser, parse_cli_args
from .config_check import ConfigCheckError, check_config
from .setup_env import register_all_modules

__all__ = ['apply_cli_args', 'load_config', 'make_parser', 'parse_cli_args', 'register_all_modules', 'check_config',
           'ConfigCheckError']
