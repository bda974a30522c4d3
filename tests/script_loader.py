"""Import a repository script (tools/, benchmarks/) as a module, for the tests."""
import importlib.util
import os.path as osp

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))


def load_script(*parts: str):
    """``load_script('tools', 'data', 'toy_dota.py')`` -> the module."""
    path = osp.join(ROOT, *parts)
    spec = importlib.util.spec_from_file_location(osp.splitext(parts[-1])[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
