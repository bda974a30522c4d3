import os

import pytest

# reproducible mode re-executes the tools; the tests call them in-process (and test the mode in subprocesses)
os.environ.pop('VISIONDIV_REPRODUCIBLE', None)


@pytest.fixture(scope='session', autouse=True)
def _register_modules():
    from visiondiv.utils import register_all_modules
    register_all_modules(init_default_scope=True)
