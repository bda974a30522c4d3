"""Importing a lower layer never imports a higher one at run time (import-linter checks the import statements;
this checks what Python actually loads, package __init__ files included)."""
import subprocess
import sys

import pytest

from tests.script_loader import ROOT

UPPER = ('visiondiv.models', 'visiondiv.datasets', 'visiondiv.evaluation', 'visiondiv.engine', 'visiondiv.apis',
         'visiondiv.visualization', 'visiondiv.utils.cli', 'visiondiv.utils.config_check')


@pytest.mark.parametrize('module, allowed', [
    ('visiondiv.structures', ()),
    ('visiondiv.divergences', ()),
    ('visiondiv.utils', ()),
    ('visiondiv.utils.validation', ()),
    ('visiondiv.utils.checkpoint', ()),
    ('visiondiv.utils.reproducibility', ()),
    ('visiondiv.models', ('visiondiv.models',)),
    ('visiondiv.datasets', ('visiondiv.datasets',)),
    ('visiondiv.evaluation', ('visiondiv.evaluation',)),
])
def test_a_layer_loads_nothing_above_it(module, allowed):
    code = (f'import sys, {module}\n'
            f'print("\\n".join(sorted(m for m in sys.modules if m.startswith({UPPER!r}) '
            f'and not m.startswith({allowed!r} or ("-",)))))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '', f'importing {module} loads upper layers:\n{out.stdout}'
