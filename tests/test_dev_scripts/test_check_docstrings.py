"""The docstring rule of `make lint` (.dev_scripts/check_docstrings.py) on sources written here."""
import textwrap

from tests.script_loader import load_script

GOOD = '''
class Loss:
    """A loss.

    Args:
        weight (float): multiplier. Defaults to 1.0.
        **kwargs: passed on.
    """

    def __init__(self, weight: float = 1.0, **kwargs):
        pass


def kl(p, q, dim=-1):
    """KL.

    Args:
        p (Tensor): first.
        q (Tensor): second,
            on two lines.
        dim (int): axis. Defaults to -1.
    """


def _private(x):
    pass
'''

BAD = '''
def no_doc(x):
    pass


def no_args(x):
    """Text only."""


def untyped(x, y=2):
    """Text.

    Args:
        x: first.
        y (int): second.
    """


class Head:
    """A head."""

    def __init__(self, num_classes):
        pass
'''


def run(tmp_path, source, capsys):
    path = tmp_path / 'mod.py'
    path.write_text(textwrap.dedent(source))
    status = load_script('.dev_scripts', 'check_docstrings.py').main([str(path)])
    return status, capsys.readouterr().out


def test_compliant_definitions_pass(tmp_path, capsys):
    status, out = run(tmp_path, GOOD, capsys)
    assert status == 0 and out.endswith('2 of 2 public definitions comply (100.0 %, at least 100 % needed)\n')


def test_each_violation_is_named_and_fails(tmp_path, capsys):
    status, out = run(tmp_path, BAD, capsys)
    assert status == 1
    assert 'no_doc: no docstring' in out
    assert 'no_args: no "Args:" section for x' in out
    assert "untyped: argument 'x' has no type" in out
    assert "untyped: argument 'y' has a default but its entry does not say \"Defaults to ...\"" in out
    assert 'Head: no "Args:" section for num_classes' in out
    assert '0 of 4 public definitions comply (0.0 %' in out


def test_min_coverage_floor(tmp_path, capsys):
    path = tmp_path / 'mod.py'
    path.write_text(textwrap.dedent(GOOD + BAD))
    assert load_script('.dev_scripts', 'check_docstrings.py').main([str(path), '--min-coverage', '30']) == 0
    assert load_script('.dev_scripts', 'check_docstrings.py').main([str(path), '--min-coverage', '40']) == 1
