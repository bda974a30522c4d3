"""Unpaired 2-D slices of two imaging domains (e.g. CT and MR) for image-to-image translation (CycleGAN)."""
import inspect
from typing import List, Optional, Sequence

import numpy as np
from mmengine.dataset import BaseDataset

from visiondiv.registry import DATASETS
from .medical import MedicalSliceDataset

#: ``normalize`` methods whose values lie in [0, 1], as the translator's data preprocessor expects
_UNIT_RANGE = ('window', 'percentile')
#: per-domain meta copied into the result as ``<key>_<domain>``
_META = ('case_id', 'slice_idx', 'img_path', 'spacing')


def _domain_keys() -> set:
    params = inspect.signature(MedicalSliceDataset.__init__).parameters
    return {'name'} | {k for k, p in params.items() if k != 'self' and p.kind == p.POSITIONAL_OR_KEYWORD}


@DATASETS.register_module()
class UnpairedSliceDataset(BaseDataset):
    """Slice ``i`` of domain A with a slice of domain B, each domain a :class:`MedicalSliceDataset`.

    mmagic's ``UnpairedImageDataset`` on NIfTI volumes. The length is the number of domain-A slices;
    domain B's slice (then each extra domain's) is drawn with ``np.random.randint`` in training (mmengine
    seeds it per worker) and is ``i % len(B)`` in test mode.

    A result holds ``img_<a>``, ``img_<b>`` (float32 (H, W) in [0, 1]), ``mask_<a>`` / ``mask_<b>``
    (uint8 (H, W)) for a labelled domain, and ``case_id_<d>``, ``slice_idx_<d>``, ``img_path_<d>``,
    ``spacing_<d>`` for both domains (and the same for each extra domain), plus ``sample_idx``. Slices of
    different shapes are refused, naming both files. Metainfo ``domains`` holds the names of A and B.

    Args:
        domain_a (dict): ``name`` (an identifier, e.g. ``'ct'``; used in the result keys), ``img_dir``,
            ``normalize`` (``'window'`` or ``'percentile'``: values in [0, 1]), optional ``label_dir``
            (None here when left out: unlabelled), ``window``, ``percentiles``, ``slice_axis``,
            ``slice_filter``, ``suffix``, ``domain``: the arguments of :class:`MedicalSliceDataset`.
        domain_b (dict): the same for domain B.
        data_root (str): root of both domains' relative folders. Defaults to ``''``.
        pipeline (Sequence): transforms, typically ending with ``PackTranslationInputs``. Defaults to ``()``.
        test_mode (bool): pair slice ``i`` of A with slice ``i % len(B)`` of B (deterministic).
            Defaults to False.
        indices (int | Sequence[int], optional): subset of domain-A slices (mmengine's meaning: an int
            keeps the first ones). Defaults to None.
        extra_domains (Sequence[dict]): more domains of the same form, each paired with slice ``i`` as domain B
            is (e.g. labelled target-domain slices beside the unlabelled ones: ``CycleGAN(labelled_domain=)``).
            Names must differ from each other and from A's and B's. Defaults to ``()``.
        **kwargs: the other arguments of mmengine's ``BaseDataset`` (``metainfo``, ``lazy_init``...);
            ``serialize_data`` defaults to False here (items hold arrays).

    Raises:
        TypeError: a domain that is not a dict.
        ValueError: naming the domain's argument: an unknown key, a missing ``name`` / ``img_dir`` /
            ``normalize``, a ``name`` that is not an identifier, a ``normalize`` outside ``'window'`` /
            ``'percentile'``, two domains with one name; when loading, a paired domain without slices.
    """

    METAINFO = dict(classes=('background', 'tumour'))

    def __init__(self, domain_a: dict, domain_b: dict, data_root: str = '', pipeline: Sequence = (),
                 test_mode: bool = False, indices: Optional[Sequence[int]] = None,
                 extra_domains: Sequence[dict] = (), **kwargs) -> None:
        extra_domains = list(extra_domains)
        # each domain's argument, for the errors
        self.domain_args = ['domain_a', 'domain_b'] + [f'extra_domains[{i}]' for i in range(len(extra_domains))]
        self.domain_cfgs = [self._check_domain(cfg, where)
                            for cfg, where in zip([domain_a, domain_b, *extra_domains], self.domain_args)]
        self.names = tuple(cfg['name'] for cfg in self.domain_cfgs)
        repeated = sorted({n for n in self.names if self.names.count(n) > 1})
        if repeated:
            raise ValueError(f'UnpairedSliceDataset: two domains have the same name {repeated[0]!r} (names key the '
                             f'results; domain_a, domain_b, extra_domains: {list(self.names)})')
        metainfo = dict(kwargs.pop('metainfo', None) or {}, domains=self.names[:2])
        kwargs.setdefault('serialize_data', False)   # items hold arrays; no need to pickle them per worker
        super().__init__(data_root=data_root, pipeline=list(pipeline), test_mode=test_mode, indices=indices,
                         metainfo=metainfo, **kwargs)

    @staticmethod
    def _check_domain(cfg: dict, where: str) -> dict:
        if not isinstance(cfg, dict):
            raise TypeError(f'UnpairedSliceDataset: {where} must be a dict, got {type(cfg).__name__}')
        unknown = sorted(set(cfg) - _domain_keys())
        if unknown:
            raise ValueError(f'UnpairedSliceDataset: unknown key(s) {unknown} in {where}; '
                             f'allowed: {sorted(_domain_keys())}')
        for key in ('name', 'img_dir', 'normalize'):
            if key not in cfg:
                raise ValueError(f'UnpairedSliceDataset: {where} needs {key!r}')
        if not isinstance(cfg['name'], str) or not cfg['name'].isidentifier():
            raise ValueError(f"UnpairedSliceDataset: {where}['name'] must be an identifier such as 'ct', "
                             f"got {cfg['name']!r}")
        if cfg['normalize'] not in _UNIT_RANGE:
            raise ValueError(f"UnpairedSliceDataset: {where}['normalize'] must be one of {_UNIT_RANGE} "
                             f"(values in [0, 1]), got {cfg['normalize']!r}")
        return dict(dict(label_dir=None), **cfg)

    def load_data_list(self) -> List[dict]:
        built = []
        for cfg in self.domain_cfgs:
            args = {k: v for k, v in cfg.items() if k != 'name'}
            built.append(MedicalSliceDataset(data_root=self.data_root, pipeline=[], test_mode=self.test_mode, **args))
        for where, cfg, dataset in list(zip(self.domain_args, self.domain_cfgs, built))[1:]:   # the paired ones
            if len(dataset) == 0:
                raise ValueError(f"UnpairedSliceDataset: {where} ({cfg['name']!r}, img_dir={cfg['img_dir']!r}) "
                                 f'has no slices')
        self.dataset_b, self.extra_datasets = built[1], built[2:]
        # domain A's slices become this dataset's own items (so ``indices`` selects among them)
        return [built[0].get_data_info(i) for i in range(len(built[0]))]

    def _pair_index(self, idx: int, n: int) -> int:
        return idx % n if self.test_mode else int(np.random.randint(n))

    def prepare_data(self, idx: int) -> dict:
        """Slice ``idx`` of domain A and a slice of domain B (and of each extra domain), through the pipeline."""
        items = [self.get_data_info(idx)] + [d.get_data_info(self._pair_index(idx, len(d)))
                                             for d in (self.dataset_b, *self.extra_datasets)]
        for item in items[1:]:
            if item['img'].shape != items[0]['img'].shape:
                raise ValueError(f"UnpairedSliceDataset: slice {items[0]['slice_idx']} of {items[0]['img_path']} "
                                 f"has shape {items[0]['img'].shape}, slice {item['slice_idx']} of "
                                 f"{item['img_path']} has {item['img'].shape}; all domains need one shape")
        results = dict(sample_idx=idx)
        for name, item in zip(self.names, items):
            results[f'img_{name}'] = item['img']
            if 'gt_seg_map' in item:
                results[f'mask_{name}'] = item['gt_seg_map']
            results.update({f'{key}_{name}': item[key] for key in _META})
        return self.pipeline(results)
