"""Convert SimGCD's class-split pickles (``data/ssb_splits/*.pkl``) to GCDDataset's json split file.

The Semantic Shift Benchmark files (``cub_osr_splits.pkl``, ``scars_osr_splits.pkl``,
``aircraft_osr_splits.pkl``) hold ``known_classes`` and ``unknown_classes`` (``{'Easy': [...], 'Medium': [...],
'Hard': [...]}``); ``herbarium_19_class_splits.pkl`` holds ``Old`` and ``New``. The json keeps the known classes
(their order is the order of the remapped labels) and the unknown ones by difficulty::

    {"known_classes": [150, 70, ...], "unknown_classes": {"Easy": [...], "Medium": [...], "Hard": [...]}}

(``closed_set_open_set_pairs`` is dropped). Class indices are SimGCD's 0-based ones (CUB / Cars: official id - 1;
Aircraft: variants sorted by name; Herbarium19: category folders sorted as strings), which visiondiv's
``CUB200Dataset``, ``StanfordCarsDataset``, ``FGVCAircraftDataset`` and ``Herbarium19Dataset`` give. Use the file
with ``GCDDataset(split_file=...)``.

A pickle can run code when loaded: convert only your own, trusted copy of these files (from the SimGCD
repository). As a further guard they are read with an unpickler that only rebuilds plain containers and numpy
integer scalars, and refuses anything else.

    python tools/data/gcd/ssb_splits_to_json.py SimGCD/data/ssb_splits/cub_osr_splits.pkl data/cub/ssb_split.json
"""
import argparse
import json
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence

import numpy as np

#: the only globals the split pickles need (numpy scalars: numpy 1.x and 2.x module names)
_ALLOWED = {('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'), ('numpy', 'dtype')}


class _SplitUnpickler(pickle.Unpickler):

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'refusing to load {module}.{name}: a class split holds only lists of ints')


def load_split_pickle(path: str) -> dict:
    """The dict of an SSB / Herbarium19 split pickle (plain containers and numpy ints only)."""
    try:
        with open(path, 'rb') as f:
            split = _SplitUnpickler(f).load()
    except FileNotFoundError:
        raise FileNotFoundError(f'{path}: no such file') from None
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise ValueError(f'{path}: not a class-split pickle ({e})') from None
    if not isinstance(split, dict):
        raise ValueError(f'{path}: expected a dict, got {type(split).__name__}')
    return split


def _class_list(value, path: str, key: str) -> List[int]:
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise ValueError(f'{path}: {key} must be a list of class indices, got {type(value).__name__}')
    out = []
    for v in value:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f'{path}: {key} holds {v!r}, not a class index (int >= 0)')
        out.append(int(v))
    if len(set(out)) != len(out):
        raise ValueError(f'{path}: {key} lists a class twice')
    return out


def convert(split: dict, path: str = '<split>') -> Dict[str, object]:
    """The json split (``known_classes`` and ``unknown_classes``) of a loaded split pickle; ``path`` names it in
    the errors."""
    if 'known_classes' in split:
        unknown = split.get('unknown_classes')
        if not isinstance(unknown, dict) or not unknown:
            raise ValueError(f"{path}: 'unknown_classes' must be a dict difficulty -> classes, got {unknown!r}")
        out = dict(known_classes=_class_list(split['known_classes'], path, "'known_classes'"),
                   unknown_classes={str(k): _class_list(v, path, f"'unknown_classes'[{k!r}]")
                                    for k, v in unknown.items()})
        unknown_all = [c for v in out['unknown_classes'].values() for c in v]
    elif 'Old' in split and 'New' in split:
        out = dict(known_classes=_class_list(split['Old'], path, "'Old'"),
                   unknown_classes=_class_list(split['New'], path, "'New'"))
        unknown_all = out['unknown_classes']
    else:
        raise ValueError(f"{path}: expected keys 'known_classes' and 'unknown_classes' (SSB) or 'Old' and 'New' "
                         f'(Herbarium19), got {sorted(split)}')
    both = sorted(set(out['known_classes']) & set(unknown_all))
    if both or len(set(unknown_all)) != len(unknown_all):
        raise ValueError(f'{path}: classes {both or "(among the unknown ones)"} are listed twice')
    return out


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('pkl', help='an SSB split pickle (e.g. cub_osr_splits.pkl) from your copy of SimGCD')
    parser.add_argument('out', help='the json split file to write')
    args = parser.parse_args(argv)
    split = convert(load_split_pickle(args.pkl), args.pkl)
    if osp.dirname(args.out):
        os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(split, f)
        f.write('\n')
    unknown = split['unknown_classes']
    num_unknown = sum(map(len, unknown.values())) if isinstance(unknown, dict) else len(unknown)
    print(f'{args.out}: {len(split["known_classes"])} known, {num_unknown} unknown classes')


if __name__ == '__main__':
    main()
