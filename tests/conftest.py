import pytest


@pytest.fixture(scope='session', autouse=True)
def _register_modules():
    from visiondiv.utils import register_all_modules
    register_all_modules(init_default_scope=True)
