"""Install visiondiv. The OpenMMLab stack itself is set up by tools/setup_env.sh (mmcv needs a source build)."""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    ns = {}
    with open(osp.join(osp.dirname(__file__), 'visiondiv', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


def read_requirements(path: str) -> list:
    with open(osp.join(osp.dirname(__file__), path)) as f:
        return [ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()]


setup(
    name='visiondiv',
    version=read_version(),
    description='Divergence-based learning for computer vision (rotated detection, SFDA, GCD) on OpenMMLab',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests', 'benchmarks', 'demo')),
    python_requires='>=3.10',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
    include_package_data=True,
    zip_safe=False,
)
