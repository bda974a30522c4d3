# The leaf helpers every layer may use, and register_all_modules (mmdet's spelling: `from visiondiv.utils import
# register_all_modules`; its module imports only mmengine, the packages are imported when it is called). The
# command-line helpers `visiondiv.utils.cli` and `visiondiv.utils.config_check` are the top layer: import them by
# their module path, so that importing a leaf helper never imports the datasets or the models.
from .checkpoint import (CheckpointMismatchError, check_checkpoint, check_checkpoint_classes, check_checkpoint_fits,
                         checkpoint_classes, class_options, load_checkpoint_checked, load_from_local, match_state_dict)
from .setup_env import register_all_modules
from .validation import (ConfigCheckError, check_cfg_options, check_finite, check_labels, check_num_classes,
                         check_window, merge_cfg_options, normalize_domain)

__all__ = ['register_all_modules', 'ConfigCheckError', 'CheckpointMismatchError', 'check_checkpoint',
           'check_checkpoint_classes', 'check_checkpoint_fits', 'checkpoint_classes', 'class_options',
           'load_checkpoint_checked', 'load_from_local', 'match_state_dict', 'check_finite', 'check_labels',
           'check_num_classes', 'check_window', 'normalize_domain', 'check_cfg_options', 'merge_cfg_options']
