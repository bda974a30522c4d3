"""Registering visiondiv's modules and making ``visiondiv`` the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every visiondiv package so that its classes register, together with mmdet's and mmseg's.

    The imports are made when this is called, as mmdet's ``register_all_modules`` makes them: this module is
    the top layer, and ``visiondiv.utils`` exports it, so it must not import the packages when it is loaded.

    Args:
        init_default_scope (bool): make ``visiondiv`` the default scope, so
            that unprefixed names resolve in visiondiv's registries (then
            mmengine's root); mmdet's and mmseg's classes are named with their
            prefix (see :mod:`visiondiv.registry`). When another default scope is current, a new
            scope ``visiondiv-<timestamp>`` is created, with a warning. Defaults to True.
    """
    import mmdet.utils
    mmdet.utils.register_all_modules(init_default_scope=False)
    try:
        import mmseg.utils
        mmseg.utils.register_all_modules(init_default_scope=False)
    except ImportError:  # segmentation modules are optional for detection-only installs
        pass
    import visiondiv.apis  # noqa: F401  (load_translator, in the FUNCTIONS registry)
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

