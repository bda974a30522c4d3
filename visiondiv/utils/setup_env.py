"""Registering visiondiv's modules and making ``visiondiv`` the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every visiondiv module so that it registers, together with mmdet's and mmseg's.

    Args:
        init_default_scope (bool): make ``visiondiv`` the default scope, so
            that configs resolve names through visiondiv's registries first.
    """
    import mmdet.utils
    mmdet.utils.register_all_modules(init_default_scope=False)
    try:
        import mmseg.utils
        mmseg.utils.register_all_modules(init_default_scope=False)
    except ImportError:  # segmentation modules are optional for detection-only installs
        pass
    import visiondiv.datasets  # noqa: F401
    import visiondiv.engine  # noqa: F401
    import visiondiv.evaluation  # noqa: F401
    import visiondiv.models  # noqa: F401
    import visiondiv.structures  # noqa: F401
    import visiondiv.visualization  # noqa: F401
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('visiondiv', scope_name='visiondiv')
    elif current.scope_name != 'visiondiv':
        warnings.warn(f'The current default scope "{current.scope_name}" is not "visiondiv"; '
                      'register_all_modules creates a new scope named visiondiv-<timestamp>.')
        new_name = f'visiondiv-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_name, scope_name='visiondiv')


def build_runner(cfg):
    """Build the runner named by ``cfg.runner_type`` (default mmengine's ``Runner``).

    mmengine looks custom runner types up in the current default scope only,
    so the lookup runs under the config's ``default_scope`` (``visiondiv``).
    """
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    # not overwrite_default_scope(): it restores mmengine's scope table on exit, dropping the scope
    # the Runner registers for itself while it is built
    DefaultScope.get_instance(f'runner-build-{datetime.datetime.now()}',
                              scope_name=cfg.get('default_scope') or 'visiondiv')
    return RUNNERS.build(cfg)


def apply_cli_args(cfg, config_path: str, args) -> None:
    """The command-line overrides ``tools/train.py`` and ``tools/test.py`` share.

    ``--launcher``, ``--cfg-options`` and ``--work-dir`` (default ``work_dirs/<config name>``).
    """
    import os.path as osp
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
