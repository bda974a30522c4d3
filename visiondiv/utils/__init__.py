from .checkpoint import (CheckpointMismatchError, check_checkpoint, check_checkpoint_classes, check_checkpoint_fits,
                         checkpoint_classes, class_options, load_checkpoint_checked, load_from_local, match_state_dict)
from .cli import apply_cli_args, load_config, make_parser, merge_cfg_options, parse_cli_args
from .config_check import check_config
from .setup_env import register_all_modules
from .validation import ConfigCheckError, check_finite, check_labels, check_num_classes, check_window, normalize_domain

__all__ = ['apply_cli_args', 'load_config', 'make_parser', 'merge_cfg_options', 'parse_cli_args',
           'register_all_modules', 'check_config', 'ConfigCheckError', 'CheckpointMismatchError', 'check_checkpoint',
           'check_checkpoint_classes', 'check_checkpoint_fits', 'checkpoint_classes', 'class_options',
           'load_checkpoint_checked', 'load_from_local', 'match_state_dict', 'check_finite', 'check_labels',
           'check_num_classes', 'check_window', 'normalize_domain']
