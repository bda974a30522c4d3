"""visiondiv: divergence-based learning for computer vision, in the OpenMMLab style."""
import importlib
import importlib.util
from typing import Dict, Optional, Tuple

from mmengine.utils import digit_version

from .version import __version__

#: supported versions, [minimum, maximum): mmcv and mmengine as mmdet 3.3 accepts them; tested with
#: mmcv 2.1.0, mmengine 0.10.7, mmdet 3.3.0 and mmsegmentation 1.2.2 (requirements/)
DEPENDENCY_RANGES: Dict[str, Tuple[str, str]] = {
    'mmcv': ('2.0.0rc4', '2.2.0'),
    'mmengine': ('0.7.1', '1.0.0'),
    'mmdet': ('3.0.0', '3.4.0'),
    'mmseg': ('1.0.0', '1.3.0'),
}
#: checked only when installed (the segmentation modules need it, detection does not)
OPTIONAL_DEPENDENCIES = ('mmseg',)
_PIP_NAMES = {'mmseg': 'mmsegmentation'}


def _install_hint(name: str, low: str, high: str) -> str:
    spec = f"'{_PIP_NAMES.get(name, name)}>={low},<{high}'"
    if name == 'mmcv':  # no CPU wheels on PyPI for mmcv 2.x: its ops are compiled from the sdist
        return f'MMCV_WITH_OPS=1 pip install --no-build-isolation {spec} (or `make setup`)'
    return f'pip install {spec} (or `make setup`)'


def check_dependency_versions(versions: Optional[Dict[str, str]] = None) -> None:
    """Raise ``ImportError`` if an OpenMMLab dependency's version is outside ``DEPENDENCY_RANGES``.

    Args:
        versions (Dict[str, str], optional): ``{package: version}`` to check, package names as the
            keys of ``DEPENDENCY_RANGES``. Defaults to None: the ``__version__`` of each
            installed package (optional packages that are not installed are skipped).

    Raises:
        ImportError: naming the installed version, the range visiondiv needs and how to install it.
        KeyError: a package in ``versions`` that ``DEPENDENCY_RANGES`` does not know.
    """
    names = list(DEPENDENCY_RANGES) if versions is None else list(versions)
    for name in names:  # in order, so that mmcv is checked before mmdet's import asserts on it
        if versions is not None:
            installed = versions[name]
        elif name in OPTIONAL_DEPENDENCIES and importlib.util.find_spec(name) is None:
            continue
        else:
            installed = importlib.import_module(name).__version__
        if name not in DEPENDENCY_RANGES:
            raise KeyError(f'no supported version range for {name!r}; known: {sorted(DEPENDENCY_RANGES)}')
        low, high = DEPENDENCY_RANGES[name]
        if not digit_version(low) <= digit_version(installed) < digit_version(high):
            raise ImportError(
                f'{name} {installed} is installed, but visiondiv {__version__} needs {name}>={low},<{high}. '
                f'Install a supported version: {_install_hint(name, low, high)}.')


check_dependency_versions()

__all__ = ['__version__', 'check_dependency_versions', 'DEPENDENCY_RANGES']
