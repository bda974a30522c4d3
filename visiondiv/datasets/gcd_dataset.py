"""Generalized Category Discovery (GCD) view of a labelled dataset: SimGCD's labelled and unlabelled sets.

A base dataset's classes are split into known ("old") and novel ("new") classes; a fraction of the known-class
samples is labelled, everything else (the rest of the known-class samples and every novel-class sample) is
unlabelled. Labels are remapped as SimGCD's ``target_transform`` does: known classes first, in the order given,
then the novel ones in the base dataset's order, so that "old" is ``gt_label < num_known_classes``.
"""
import json
from collections import Counter
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from visiondiv.registry import DATASETS

__all__ = ['GCDDataset', 'load_gcd_split', 'resolve_classes']

#: ``subset`` values: the training set (labelled first), its labelled part, its unlabelled part
SUBSETS = ('train', 'labelled', 'unlabelled')
#: keys of a split file
SPLIT_KEYS = ('known_classes', 'unknown_classes', 'labelled')

ClassSpec = Union[int, Sequence[Union[int, str]]]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _class_index(value: Union[int, str], classes: Sequence[str], where: str) -> int:
    if isinstance(value, str):
        if value not in classes:
            raise ValueError(f'{where}: unknown class name {value!r}; the dataset has {len(classes)} classes '
                             f'{list(classes[:10])}{"..." if len(classes) > 10 else ""}')
        return list(classes).index(value)
    if not _is_int(value):
        raise TypeError(f'{where}: a class is an index (int) or a name (str), got {value!r}')
    if not 0 <= value < len(classes):
        raise ValueError(f'{where}: class index {int(value)} is out of range [0, {len(classes)})')
    return int(value)


def resolve_classes(spec: ClassSpec, classes: Sequence[str], where: str = 'known_classes') -> List[int]:
    """Class indices (in the order given) of ``spec``: an int N (the first N classes), or indices / names.

    An unknown name, an index out of range, a duplicate or an empty list is an error naming ``where``.

    Args:
        spec (int | Sequence[int | str]): ``N`` (1 <= N <= len(classes)) or a sequence of class indices
            and/or class names.
        classes (Sequence[str]): the class names of the dataset.
        where (str): what ``spec`` is, for the error messages (e.g. ``'known_classes of split.json'``).
            Defaults to ``'known_classes'``.

    Returns:
        list[int]: the class indices, in the order of ``spec`` (``0..N-1`` for an int).

    Raises:
        TypeError: ``spec`` is neither an int nor a sequence (a string is refused), or an element is
            neither an int nor a str.
        ValueError: ``N`` out of range, an empty list, an unknown name, an index out of range, a class
            listed twice.
    """
    if _is_int(spec):
        if not 1 <= spec <= len(classes):
            raise ValueError(f'{where}: {int(spec)} known classes asked, the dataset has {len(classes)}')
        return list(range(int(spec)))
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        raise TypeError(f'{where}: expected an int or a list of class indices / names, got {spec!r}')
    if len(spec) == 0:
        raise ValueError(f'{where}: the list of classes is empty')
    out = [_class_index(v, classes, where) for v in spec]
    seen = set()
    for v, i in zip(spec, out):
        if i in seen:
            raise ValueError(f'{where}: class {i} ({classes[i]!r}) is listed twice (as {v!r})')
        seen.add(i)
    return out


def load_gcd_split(path: str, classes: Sequence[str]) -> Dict[str, Optional[list]]:
    """Read a GCD split file (json) against the base dataset's ``classes``.

    The file holds ``{"known_classes": [...], "unknown_classes": [...], "labelled": [...]}``: classes as
    indices or names; ``unknown_classes`` (optional) either a list or the SSB form
    ``{"Easy": [...], "Medium": [...], "Hard": [...]}`` (their union) and, when given, exactly the classes that
    are not known; ``labelled`` (optional) sample indices of the base dataset.

    Args:
        path (str): the json split file.
        classes (Sequence[str]): the class names of the base dataset (metainfo ``classes``).

    Returns:
        dict: ``dict(known_classes=[int], unknown_classes=[int] | None, labelled=[int] | None)``, classes
        as indices into ``classes``; ``labelled`` as in the file (its range is checked by
        :class:`GCDDataset`, which knows the number of samples).

    Raises:
        FileNotFoundError: naming the file.
        ValueError: a bad file (not json, not an object, unknown or missing keys, bad class lists,
            known and unknown classes overlapping or not covering every class, a ``labelled`` that is not
            a non-empty list of distinct ints), naming the file and the key.
        TypeError: a class that is neither an index nor a name (from :func:`resolve_classes`).
    """
    where = f'GCD split file {path}'
    try:
        with open(path, encoding='utf-8') as f:
            split = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'{where}: no such file') from None
    except json.JSONDecodeError as e:
        raise ValueError(f'{where}: not valid json ({e})') from None
    if not isinstance(split, dict):
        raise ValueError(f'{where}: the top level must be an object with keys {SPLIT_KEYS}, '
                         f'got {type(split).__name__}')
    unknown_keys = sorted(set(split) - set(SPLIT_KEYS))
    if unknown_keys:
        raise ValueError(f'{where}: unknown key(s) {unknown_keys}; allowed: {list(SPLIT_KEYS)}')
    if 'known_classes' not in split:
        raise ValueError(f"{where}: missing key 'known_classes'")
    known = split['known_classes']
    if not isinstance(known, list):
        raise ValueError(f"{where}: 'known_classes' must be a list of class indices or names, got {known!r}")
    known = resolve_classes(known, classes, f"{where}, key 'known_classes'")

    unknown = split.get('unknown_classes')
    if unknown is not None:
        key = f"{where}, key 'unknown_classes'"
        if isinstance(unknown, dict):      # SSB: difficulty -> classes
            for k, v in unknown.items():
                if not isinstance(v, list):
                    raise ValueError(f'{key}[{k!r}] must be a list of classes, got {v!r}')
            unknown = [c for v in unknown.values() for c in v]
        if not isinstance(unknown, list):
            raise ValueError(f'{key}: must be a list or a {{difficulty: list}} object, got {unknown!r}')
        unknown = resolve_classes(unknown, classes, key)
        both = sorted(set(known) & set(unknown))
        if both:
            raise ValueError(f'{key}: class(es) {[(i, classes[i]) for i in both]} are also known classes')
        missing = sorted(set(range(len(classes))) - set(known) - set(unknown))
        if missing:
            raise ValueError(f'{key}: class(es) {[(i, classes[i]) for i in missing][:20]} are neither known nor '
                             'unknown; the two lists must cover every class of the dataset')

    labelled = split.get('labelled')
    if labelled is not None:
        if not isinstance(labelled, list) or not all(_is_int(i) for i in labelled):
            raise ValueError(f"{where}: 'labelled' must be a list of sample indices (int)")
        if len(set(labelled)) != len(labelled):
            dup = next(i for i, n in Counter(labelled).items() if n > 1)
            raise ValueError(f"{where}: sample {dup} is listed twice in 'labelled'")
        if not labelled:
            raise ValueError(f"{where}: 'labelled' is empty")
    return dict(known_classes=known, unknown_classes=unknown, labelled=labelled)


@DATASETS.register_module()
class GCDDataset(BaseDataset):
    """A base dataset as a GCD task: known / novel classes, labelled / unlabelled samples (SimGCD's split).

    Each item is the base item with ``gt_label`` (remapped), ``labelled``, ``old`` (bool), ``sample_idx``
    (index in this wrapper) and ``base_idx`` (index in the base dataset). Metainfo: ``classes`` (remapped
    names), ``num_known_classes``, ``known_classes`` (names); the last two are attributes too (and
    ``base_classes``, the base dataset's names). ``labelled_flags`` is the bool array of ``labelled`` over
    this wrapper's samples (for :class:`GCDBalancedSampler`).

    Args:
        dataset (dict | BaseDataset): the base dataset (config or built mmengine ``BaseDataset``, without a
            pipeline of its own); its items hold ``gt_label`` (int, an index into its metainfo ``classes``)
            and ``img`` or ``img_path``.
        known_classes (int | Sequence[int | str], optional): ``N`` (the first N classes), or class indices /
            names; their order sets the remapped labels 0..K_old-1. May be left out when ``split_file``
            gives it (if both are given, they must agree). Defaults to None.
        labelled_ratio (float): fraction in (0, 1] of the known-class samples that are labelled: SimGCD's
            ``subsample_instances``, ``floor(labelled_ratio * n)`` samples drawn without replacement by
            ``np.random.RandomState(seed).choice`` (the legacy generator, whose stream numpy keeps stable, so
            ``seed=0`` gives SimGCD's own labelled set when the base dataset lists the samples in its order).
            Defaults to 0.5.
        seed (int): seed of that draw. Unused, like ``labelled_ratio``, when the split file lists ``labelled``.
            Defaults to 0.
        split_file (str, optional): a json split, see :func:`load_gcd_split`
            (``tools/data/gcd/ssb_splits_to_json.py`` converts the SSB splits). A labelled sample of a class
            outside the known set is refused. Defaults to None.
        subset (str): ``'train'`` (labelled samples, then unlabelled ones, each in base order), ``'labelled'``
            or ``'unlabelled'`` (the transductive evaluation set of GCD). Defaults to ``'train'``.
        pipeline (Sequence): transforms run on each item, as mmengine's ``BaseDataset``. Defaults to ``()``.
        test_mode (bool): as mmengine's ``BaseDataset``. Defaults to False.
        indices (int | Sequence[int], optional): as mmengine's ``BaseDataset``: selects samples of this
            wrapper (an int: the first ones). Defaults to None.
        serialize_data (bool): as mmengine's ``BaseDataset``. Defaults to True.
        lazy_init (bool): as mmengine's ``BaseDataset``. Defaults to False.
        max_refetch (int): as mmengine's ``BaseDataset``. Defaults to 1000.

    Raises:
        TypeError: ``dataset`` is neither a config dict nor a ``BaseDataset``; ``seed`` is not an int.
        ValueError: the base dataset has a pipeline or no metainfo ``classes``; a bad ``subset`` or
            ``labelled_ratio``; neither ``known_classes`` nor ``split_file``, or the two disagreeing.
    """

    def __init__(self, dataset: Union[dict, BaseDataset], known_classes: Optional[ClassSpec] = None,
                 labelled_ratio: float = 0.5, seed: int = 0, split_file: Optional[str] = None,
                 subset: str = 'train', pipeline: Sequence = (), test_mode: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None, serialize_data: bool = True,
                 lazy_init: bool = False, max_refetch: int = 1000) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError(f'GCDDataset: dataset must be a config dict or an mmengine BaseDataset, '
                            f'got {type(dataset).__name__}')
        self.dataset = dataset
        base_name = type(dataset).__name__
        if getattr(dataset.pipeline, 'transforms', None):
            raise ValueError(f'GCDDataset: the base dataset {base_name} has a pipeline, which the wrapper would not '
                             'run; give the pipeline to GCDDataset')
        if not dataset.metainfo.get('classes'):
            dataset.full_init()    # readers that fill classes from their files when loading
        classes = dataset.metainfo.get('classes')
        if not isinstance(classes, Sequence) or isinstance(classes, str) or not classes \
                or not all(isinstance(c, str) for c in classes):
            raise ValueError(f"GCDDataset: the base dataset {base_name} needs metainfo 'classes' (a tuple of class "
                             f'names), got {classes!r}')
        self.base_classes = tuple(classes)
        if subset not in SUBSETS:
            raise ValueError(f'GCDDataset: subset must be one of {SUBSETS}, got {subset!r}')
        if isinstance(labelled_ratio, bool) or not isinstance(labelled_ratio, (int, float)) \
                or not 0 < labelled_ratio <= 1:
            raise ValueError(f'GCDDataset: labelled_ratio must be in (0, 1], got {labelled_ratio!r}')
        if not _is_int(seed):
            raise TypeError(f'GCDDataset: seed must be an int, got {seed!r}')
        self.subset, self.split_file = subset, split_file
        self.labelled_ratio, self.seed = float(labelled_ratio), int(seed)

        self._split_labelled = None
        if split_file is not None:
            split = load_gcd_split(split_file, self.base_classes)
            known = split['known_classes']
            if known_classes is not None:
                given = resolve_classes(known_classes, self.base_classes)
                if given != known:
                    raise ValueError(f'GCDDataset: known_classes {given} disagree with known_classes {known} of '
                                     f'split file {split_file}; give them in one place')
            self._split_labelled = split['labelled']
        elif known_classes is None:
            raise ValueError('GCDDataset: give known_classes or a split_file')
        else:
            known = resolve_classes(known_classes, self.base_classes)
        novel = sorted(set(range(len(self.base_classes))) - set(known))
        self.base_order = np.array(known + novel, dtype=np.int64)   # remapped label -> base class
        self.num_known_classes = len(known)
        self.known_classes = tuple(self.base_classes[c] for c in known)
        self._labelled_flags: Optional[np.ndarray] = None
        metainfo = dict(classes=tuple(self.base_classes[c] for c in self.base_order),
                        num_known_classes=self.num_known_classes, known_classes=self.known_classes)
        super().__init__(metainfo=metainfo, pipeline=list(pipeline), test_mode=test_mode, indices=indices,
                         serialize_data=serialize_data, lazy_init=lazy_init, max_refetch=max_refetch)

    def _base_labels(self) -> np.ndarray:
        base, name, num = self.dataset, type(self.dataset).__name__, len(self.base_classes)
        labels = np.empty(len(base), dtype=np.int64)
        for i in range(len(base)):
            info = base.get_data_info(i)
            src = f"sample {i} of {name}" + (f" ({info['img_path']})" if 'img_path' in info else '')
            if 'gt_label' not in info:
                raise KeyError(f"GCDDataset: {src} has no 'gt_label'")
            label = info['gt_label']
            if not _is_int(label) or not 0 <= label < num:
                raise ValueError(f"GCDDataset: {src} has 'gt_label' {label!r}; expected an int in [0, {num})")
            labels[i] = label
        return labels

    def _labelled_indices(self, labels: np.ndarray, is_known: np.ndarray) -> np.ndarray:
        if self._split_labelled is not None:
            idx = np.asarray(self._split_labelled, dtype=np.int64)
            bad = idx[(idx < 0) | (idx >= len(labels))]
            if bad.size:
                raise ValueError(f"GCDDataset: labelled sample {int(bad[0])} of split file {self.split_file} is out "
                                 f'of range: {type(self.dataset).__name__} has {len(labels)} samples')
            for i in idx:
                if not is_known[i]:
                    c = int(labels[i])
                    raise ValueError(f'GCDDataset: labelled sample {int(i)} of split file {self.split_file} has '
                                     f'class {c} ({self.base_classes[c]!r}), which is not a known class '
                                     f'(known: {list(self.known_classes)})')
            return np.sort(idx)
        candidates = np.flatnonzero(is_known)
        # SimGCD's subsample_instances: int() truncates, the legacy generator draws without replacement
        num = int(self.labelled_ratio * len(candidates))
        if num == 0:
            raise ValueError(f'GCDDataset: labelled_ratio={self.labelled_ratio} of the {len(candidates)} samples '
                             f'of known classes gives no labelled sample')
        pick = np.random.RandomState(self.seed).choice(len(candidates), size=num, replace=False)
        return np.sort(candidates[pick])

    def load_data_list(self) -> List[dict]:
        """The wrapper's entries ``dict(base_idx, gt_label, labelled, old)``, in ``subset`` order."""
        self.dataset.full_init()
        labels = self._base_labels()
        remap = np.empty(len(self.base_classes), dtype=np.int64)
        remap[self.base_order] = np.arange(len(self.base_order))
        new_labels = remap[labels]
        is_known = new_labels < self.num_known_classes
        labelled = np.zeros(len(labels), dtype=bool)
        labelled[self._labelled_indices(labels, is_known)] = True
        order = dict(train=np.concatenate([np.flatnonzero(labelled), np.flatnonzero(~labelled)]),
                     labelled=np.flatnonzero(labelled), unlabelled=np.flatnonzero(~labelled))[self.subset]
        return [dict(base_idx=int(i), gt_label=int(new_labels[i]), labelled=bool(labelled[i]),
                     old=bool(is_known[i])) for i in order]

    def full_init(self) -> None:
        """mmengine's ``full_init``, then the ``labelled_flags`` of the (possibly sliced) samples."""
        if self._fully_initialized:
            return
        super().full_init()
        self._labelled_flags = np.array([BaseDataset.get_data_info(self, i)['labelled'] for i in range(len(self))],
                                        dtype=bool)
        self._labelled_flags.setflags(write=False)

    @property
    def labelled_flags(self) -> np.ndarray:
        """Read-only bool array: ``labelled`` of each sample of this wrapper."""
        self.full_init()
        return self._labelled_flags

    def get_data_info(self, idx: int) -> dict:
        """The base item of sample ``idx`` with ``gt_label`` (remapped), ``labelled``, ``old``, ``sample_idx``
        and ``base_idx``."""
        entry = super().get_data_info(idx)
        info = self.dataset.get_data_info(entry['base_idx'])
        info.update(entry)
        return info

    def __repr__(self) -> str:
        where = f'split_file={self.split_file!r}' if self.split_file else \
            f'labelled_ratio={self.labelled_ratio}, seed={self.seed}'
        return (f'{type(self).__name__}(dataset={type(self.dataset).__name__}, subset={self.subset!r}, '
                f'known={self.num_known_classes}/{len(self.base_classes)} classes, {where})')
