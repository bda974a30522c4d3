"""setup.py puts configs/, tools/ and model-index.yml into the package (visiondiv/.mim) as mim expects."""
import importlib.metadata
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

from tests.script_loader import ROOT, load_script


def load_setup():
    return load_script('setup.py')     # its setup() call is under the __main__ guard


def _fake_repo(root):
    (root / 'configs' / 'kld').mkdir(parents=True)
    (root / 'configs' / 'kld' / 'a.py').write_text('x = 1\n')
    (root / 'tools' / '__pycache__').mkdir(parents=True)
    (root / 'tools' / 'train.py').write_text('print(1)\n')
    (root / 'tools' / '__pycache__' / 'train.cpython-311.pyc').write_bytes(b'\0')
    (root / 'model-index.yml').write_text('Import: []\n')
    return root


@pytest.mark.parametrize('argv, mode', [
    (['setup.py', 'develop'], 'symlink'),              # legacy pip install -e
    (['setup.py', 'editable_wheel', '--dist-dir', 'x'], 'symlink'),   # PEP 660 pip install -e
    (['setup.py', 'bdist_wheel', '-d', 'x'], 'copy'),  # pip install .
    (['setup.py', 'sdist'], 'copy'),
    (['setup.py', 'egg_info'], None),                  # metadata only: touch nothing
])
def test_mim_mode(argv, mode):
    assert load_setup().mim_mode(argv) == mode


def test_symlinks_then_copies(tmp_path):
    setup = load_setup()
    repo = _fake_repo(tmp_path / 'repo')
    mim = repo / 'visiondiv' / '.mim'
    written = setup.add_mim_extension('symlink', str(repo))
    assert sorted(osp.basename(p) for p in written) == ['configs', 'model-index.yml', 'tools']
    for name in ('configs', 'tools', 'model-index.yml'):
        link = mim / name
        assert link.is_symlink() and not osp.isabs(os.readlink(link))   # relative: the tree can move
        assert link.resolve() == (repo / name).resolve()
    assert (mim / 'configs' / 'kld' / 'a.py').read_text() == 'x = 1\n'
    setup.add_mim_extension('symlink', str(repo))                      # idempotent
    assert (mim / 'tools').is_symlink()

    setup.add_mim_extension('copy', str(repo))                         # replaces the links by real files
    assert not (mim / 'configs').is_symlink() and (mim / 'configs' / 'kld' / 'a.py').is_file()
    assert not (mim / 'model-index.yml').is_symlink() and (mim / 'model-index.yml').read_text() == 'Import: []\n'
    assert (mim / 'tools' / 'train.py').is_file() and not (mim / 'tools' / '__pycache__').exists()
    assert setup.add_mim_extension(None, str(repo)) == []
    with pytest.raises(ValueError, match='hardlink'):
        setup.add_mim_extension('hardlink', str(repo))


def test_develop_install_exposes_the_configs():
    """`make setup` installs this checkout with `pip install -e .`: mim finds visiondiv/.mim/configs."""
    import visiondiv
    pkg = osp.dirname(visiondiv.__file__)
    if osp.realpath(osp.dirname(pkg)) != osp.realpath(ROOT):
        pytest.skip('visiondiv is not installed from this checkout')
    mim = osp.join(pkg, '.mim')
    if not osp.isdir(mim):
        pytest.skip('this checkout was installed before setup.py added visiondiv/.mim (run make setup)')
    assert osp.isfile(osp.join(mim, 'configs', 'kld', 'metafile.yml'))
    assert osp.isfile(osp.join(mim, 'tools', 'train.py'))
    index = yaml.safe_load(open(osp.join(mim, 'model-index.yml')))
    assert all(osp.isfile(osp.join(mim, rel)) for rel in index['Import'])


def test_wheel_contains_configs_tools_and_model_index(tmp_path):
    """A wheel built from a copy of the repository ships visiondiv/.mim (MANIFEST.in + package data)."""
    src = tmp_path / 'src'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for name in ('visiondiv', 'configs', 'tools', 'requirements'):
        shutil.copytree(osp.join(ROOT, name), src / name, ignore=ignore)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'LICENSE', 'model-index.yml'):
        shutil.copy(osp.join(ROOT, name), src / name)
    proc = subprocess.run([sys.executable, 'setup.py', '-q', 'bdist_wheel', '-d', str(tmp_path / 'dist')],
                          cwd=src, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / 'dist').glob('visiondiv-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    assert 'visiondiv/.mim/model-index.yml' in names
    assert 'visiondiv/.mim/tools/train.py' in names and 'visiondiv/.mim/tools/dist_train.sh' in names
    index = yaml.safe_load(open(osp.join(ROOT, 'model-index.yml')))
    for rel in index['Import']:
        assert f'visiondiv/.mim/{rel}' in names
        for model in yaml.safe_load(open(osp.join(ROOT, rel)))['Models']:
            assert f'visiondiv/.mim/{model["Config"]}' in names
    assert 'visiondiv/.mim/configs/_base_/default_runtime.py' in names
    assert not any('__pycache__' in n for n in names)
    assert any(n.endswith('LICENSE') for n in names)


def _requirement_names(path: str) -> list:
    names = []
    for line in open(path):
        line = line.split('#')[0].strip()
        if line and not line.startswith('-'):
            names.append(re.split(r'[<>=!~\[; ]', line)[0].lower().replace('_', '-'))
    return names


def test_every_requirement_is_pinned_and_setup_uses_the_pins():
    pins = {}
    for line in open(osp.join(ROOT, 'requirements', 'constraints.txt')):
        line = line.split('#')[0].strip()
        if line:
            name, version = line.split('==')
            pins[name.lower().replace('_', '-')] = version
    for req in ('mminstall.txt', 'runtime.txt', 'tests.txt'):
        for name in _requirement_names(osp.join(ROOT, 'requirements', req)):
            if name == 'torch':  # pinned by setup_env.sh itself (the local tag differs by machine)
                continue
            assert name in pins, f'requirements/{req}: {name} has no pin in requirements/constraints.txt'
    # every install in setup_env.sh goes through the constrained pip command
    script = open(osp.join(ROOT, 'tools', 'setup_env.sh')).read()
    assert 'torch==2.13.0 ' in script and 'torch' not in pins
    assert 'PIP=("$PY" -m pip install --disable-pip-version-check -c "$ROOT/requirements/constraints.txt")' in script
    assert not re.search(r'pip install(?! --disable-pip-version-check -c)', script)
    # and this environment is the pinned one (after an upgrade: `make lock`)
    for name in _requirement_names(osp.join(ROOT, 'requirements', 'runtime.txt')):
        installed = importlib.metadata.version(name).split('+')[0]
        assert installed == pins[name], f'{name} {installed} installed, {pins[name]} pinned'
