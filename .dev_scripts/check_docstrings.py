"""Check that every public class and function of a package has a Google-style docstring with ``Args:``.

Run by ``make lint``. The rule, for each module-level class or function whose name does not start
with ``_`` (methods are not checked):

* it has a docstring;
* every parameter (of the function, or of the class's own ``__init__``; ``self``/``cls`` aside) is an
  entry of an ``Args:`` section of that docstring (or of ``__init__``'s), written ``name (type): ...``;
  ``*args``/``**kwargs`` are listed under their names, the type optional;
* the entry of a parameter with a default says ``Defaults to ...``.

Usage: ``python .dev_scripts/check_docstrings.py [PACKAGE_DIR ...] [--min-coverage PERCENT]``. It prints
each violation as ``path:line: name: problem`` and the coverage, and exits 1 when the coverage of
compliant definitions is below ``--min-coverage`` (100 by default: every definition).
"""
import argparse
import ast
import re
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

#: an entry of the Args section: ``name (type): text``; the type is optional here, checked after
_ENTRY = re.compile(r'^(\*{0,2}\w+)\s*(\(([^)]*)\))?\s*:(.*)$')


def parse_args_section(doc: str) -> Dict[str, Tuple[Optional[str], str]]:
    """The entries of a Google-style ``Args:`` section.

    Args:
        doc (str): a cleaned docstring (``inspect.cleandoc``/``ast.get_docstring``).

    Returns:
        dict: ``{name: (type or None, text)}``, the text with its continuation lines joined.
    """
    entries: Dict[str, Tuple[Optional[str], str]] = {}
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() in ('Args:', 'Arguments:'))
    except StopIteration:
        return entries
    base = len(lines[start]) - len(lines[start].lstrip())
    entry_indent = None
    current = None
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= base:
            break  # the next section, or the end of the indented block
        if entry_indent is None:
            entry_indent = indent
        if indent == entry_indent:
            m = _ENTRY.match(line.strip())
            if m is None:
                current = None
                continue
            name, _, type_, text = m.groups()
            current = name.lstrip('*')
            entries[current] = (type_.strip() if type_ else None, text.strip())
        elif current is not None and indent > entry_indent:
            type_, text = entries[current]
            entries[current] = (type_, f'{text} {line.strip()}')
    return entries


def _params(fn: ast.FunctionDef) -> Iterator[Tuple[str, bool, bool]]:
    """``(name, has_default, is_star)`` for each parameter but ``self``/``cls``."""
    a = fn.args
    positional = a.posonlyargs + a.args
    defaults = [False] * (len(positional) - len(a.defaults)) + [True] * len(a.defaults)
    for arg, has_default in zip(positional, defaults):
        if arg.arg not in ('self', 'cls'):
            yield arg.arg, has_default, False
    if a.vararg is not None:
        yield a.vararg.arg, False, True
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        yield arg.arg, default is not None, False
    if a.kwarg is not None:
        yield a.kwarg.arg, False, True


def check_definition(node: ast.AST) -> List[str]:
    """The problems of one module-level class or function (an empty list when it complies).

    Args:
        node (ast.AST): an ``ast.ClassDef``, ``ast.FunctionDef`` or ``ast.AsyncFunctionDef``.

    Returns:
        list[str]: one message per problem.
    """
    doc = ast.get_docstring(node) or ''
    fn = node
    if isinstance(node, ast.ClassDef):
        inits = [b for b in node.body if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and b.name == '__init__']
        fn = inits[0] if inits else None
        if fn is not None:
            doc = f'{doc}\n\n{ast.get_docstring(fn) or ""}'.strip()
    if not doc:
        return ['no docstring']
    if fn is None:
        return []
    params = list(_params(fn))
    if not params:
        return []
    entries = parse_args_section(ast.get_docstring(node) or '')
    if isinstance(node, ast.ClassDef) and fn is not node:
        entries.update(parse_args_section(ast.get_docstring(fn) or ''))
    if not entries:
        return [f'no "Args:" section for {", ".join(p for p, _, _ in params)}']
    problems = []
    for name, has_default, is_star in params:
        if name not in entries:
            problems.append(f'argument {name!r} is not in "Args:"')
            continue
        type_, text = entries[name]
        if not is_star and not type_:
            problems.append(f'argument {name!r} has no type: write "{name} (type): ..."')
        if has_default and 'Defaults to' not in text:
            problems.append(f'argument {name!r} has a default but its entry does not say "Defaults to ..."')
    return problems


def public_definitions(path: Path) -> Iterator[ast.AST]:
    """The module-level classes and functions of ``path`` whose names do not start with ``_``.

    Args:
        path (Path): a Python source file.

    Yields:
        ast.AST: each public definition.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith('_'):
            yield node


def main(argv: Optional[List[str]] = None) -> int:
    """Check the packages named in ``argv``; the exit status.

    Args:
        argv (list[str], optional): command-line arguments. Defaults to ``sys.argv[1:]``.

    Returns:
        int: 0 when the coverage reaches ``--min-coverage``, else 1.
    """
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('paths', nargs='*', default=['visiondiv'], help='package folders or files')
    parser.add_argument('--min-coverage', type=float, default=100.0,
                        help='percent of public definitions that must comply')
    args = parser.parse_args(argv)
    files = []
    for p in map(Path, args.paths):
        files.extend(sorted(p.rglob('*.py')) if p.is_dir() else [p])
    total = bad = 0
    for path in files:
        for node in public_definitions(path):
            total += 1
            problems = check_definition(node)
            if problems:
                bad += 1
                for problem in problems:
                    print(f'{path}:{node.lineno}: {node.name}: {problem}')
    coverage = 100.0 * (total - bad) / total if total else 100.0
    print(f'docstrings: {total - bad} of {total} public definitions comply ({coverage:.1f} %, '
          f'at least {args.min_coverage:g} % needed)')
    return 0 if coverage >= args.min_coverage else 1


if __name__ == '__main__':
    sys.exit(main())
