"""visiondiv refuses to import with an OpenMMLab dependency outside its supported range, and says why."""
import subprocess
import sys

import mmcv
import pytest

import visiondiv
from visiondiv import DEPENDENCY_RANGES, check_dependency_versions


def test_installed_versions_pass():
    check_dependency_versions()


@pytest.mark.parametrize('version', ['2.2.0', '3.0.0', '1.7.2', '2.0.0rc3'])
def test_mmcv_outside_the_range_names_versions_and_install(monkeypatch, version):
    monkeypatch.setattr(mmcv, '__version__', version)
    with pytest.raises(ImportError) as info:
        check_dependency_versions()
    msg = str(info.value)
    assert f'mmcv {version} is installed' in msg
    assert f'visiondiv {visiondiv.__version__} needs mmcv>=2.0.0rc4,<2.2.0' in msg
    assert "MMCV_WITH_OPS=1 pip install --no-build-isolation 'mmcv>=2.0.0rc4,<2.2.0'" in msg


@pytest.mark.parametrize('name, version', [('mmdet', '3.4.0'), ('mmengine', '1.0.0'), ('mmseg', '0.30.0'),
                                           ('mmdet', '2.28.2')])
def test_each_dependency_is_checked(name, version):
    low, high = DEPENDENCY_RANGES[name]
    with pytest.raises(ImportError, match=rf"{name} {version} is installed.*{name}>={low},<{high}"):
        check_dependency_versions({name: version})
    pip_name = 'mmsegmentation' if name == 'mmseg' else name
    with pytest.raises(ImportError, match=rf"pip install '{pip_name}>={low},<{high}'"):
        check_dependency_versions({name: version})


def test_range_edges():
    for name, (low, high) in DEPENDENCY_RANGES.items():
        check_dependency_versions({name: low})                 # minimum included
        with pytest.raises(ImportError):
            check_dependency_versions({name: high})            # maximum excluded


def test_mmseg_is_optional(monkeypatch):
    """Without mmsegmentation installed (a detection-only install) nothing is asked of it."""
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'mmseg' else real(name, *a))
    import mmseg
    monkeypatch.setattr(mmseg, '__version__', '0.1.0')         # would fail if it were checked
    check_dependency_versions()


def test_import_time_check():
    """The check runs when visiondiv is imported, before anything else of it."""
    code = "import mmcv; mmcv.__version__ = '2.2.0'; import visiondiv"
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'ImportError: mmcv 2.2.0 is installed, but visiondiv' in proc.stderr
