"""Install visiondiv. The OpenMMLab stack itself is set up by tools/setup_env.sh (mmcv needs a source build).

As in mmrotate, the configs, the tools and model-index.yml go into the package as
``visiondiv/.mim/`` so that OpenMMLab's ``mim`` finds them in an installed package:
symlinks for an editable install (``pip install -e .``), copies for a wheel or an sdist.
"""
import os
import os.path as osp
import shutil
import sys
import warnings
from typing import List, Optional, Sequence

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
#: repository entries mim expects under <package>/.mim/
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version() -> str:
    ns = {}
    with open(osp.join(ROOT, 'visiondiv', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


def read_requirements(path: str) -> List[str]:
    with open(osp.join(ROOT, path)) as f:
        return [ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()]


def mim_mode(argv: Sequence[str]) -> Optional[str]:
    """How the setup command in ``argv`` installs the mim files: 'symlink', 'copy' or None (not at all).

    ``develop`` (legacy ``pip install -e``) and ``editable_wheel`` (PEP 660 ``pip install -e``)
    link to the working tree, so edited configs are seen at once; ``sdist`` and ``bdist_wheel``
    (``pip install .``) need real files inside the package.
    """
    if 'develop' in argv or 'editable_wheel' in argv:
        return 'symlink'
    if 'sdist' in argv or 'bdist_wheel' in argv:
        return 'copy'
    return None


def add_mim_extension(mode: Optional[str], repo_path: str = ROOT, mim_path: Optional[str] = None,
                      names: Sequence[str] = MIM_FILES) -> List[str]:
    """Put ``names`` of ``repo_path`` into ``mim_path`` (default ``<repo>/visiondiv/.mim``).

    Args:
        mode: 'symlink' (relative links), 'copy', or None to do nothing.
        repo_path: the repository root the entries are taken from.
        mim_path: target folder; an existing entry of the same name is replaced.
        names: entries to install; missing ones are skipped (an sdist has only the copies).

    Returns:
        The target paths written.
    """
    if mode is None:
        return []
    if mode not in ('symlink', 'copy'):
        raise ValueError(f"add_mim_extension: mode must be 'symlink', 'copy' or None, not {mode!r}")
    mim_path = mim_path or osp.join(repo_path, 'visiondiv', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    written = []
    for name in names:
        src = osp.join(repo_path, name)
        if not osp.exists(src):
            continue
        dst = osp.join(mim_path, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        item_mode = mode
        if item_mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, osp.dirname(dst)), dst)
            except OSError:  # e.g. Windows without the symlink privilege
                warnings.warn(f'could not symlink {src} to {dst}; copying it instead')
                item_mode = 'copy'
        if item_mode == 'copy':
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copyfile(src, dst)
        written.append(dst)
    return written


if __name__ == '__main__':
    add_mim_extension(mim_mode(sys.argv))
    setup(
        name='visiondiv',
        version=read_version(),
        description='Divergence-based learning for computer vision (rotated detection, SFDA, GCD) on OpenMMLab',
        long_description=open(osp.join(ROOT, 'README.md')).read() if osp.exists(osp.join(ROOT, 'README.md')) else '',
        long_description_content_type='text/markdown',
        keywords='computer vision, rotated object detection, domain adaptation, openmmlab',
        license='Apache License 2.0',
        classifiers=[
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
        ],
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks', 'demo')),
        python_requires='>=3.10',
        install_requires=read_requirements('requirements/runtime.txt'),
        extras_require={'tests': read_requirements('requirements/tests.txt'),
                        'mim': read_requirements('requirements/mminstall.txt')},
        # the visiondiv/.mim files listed in MANIFEST.in
        include_package_data=True,
        zip_safe=False,
    )
