"""CycleGAN (Zhu et al., ICCV 2017) for unpaired CT -> MR translation, with an optional tumour-aware term.

mmagic's layout and names (``generators`` / ``discriminators`` keyed by the target domain, one
optimizer wrapper per submodule, discriminators then generators in ``train_step``); mmagic itself
cannot be a dependency here (it imports torchvision).
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel, ModuleDict
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.structures import BaseDataElement
from torch import Tensor

from visiondiv.registry import MODELS
from .cyclegan_modules import ImagePool


def tumour_crops(images: Tensor, masks: Tensor, size: int) -> Tensor:
    """``size`` x ``size`` crops of ``images`` (N, C, H, W) centred on the bounding box of each non-empty mask
    (N, 1, H, W), shifted inside the image; (K, C, size, size) for the K images with a tumour, differentiable.

    Args:
        images (Tensor): (N, C, H, W) images to crop.
        masks (Tensor): (N, 1, H, W) masks; pixels > 0 are tumour.
        size (int): Side of the square crops, at most ``min(H, W)``.

    Returns:
        Tensor: (K, C, size, size) crops, in the order of the images; (0, C, size, size) when no mask has a
        tumour.

    Raises:
        ValueError: If ``size`` exceeds the image's height or width.
    """
    n, _, h, w = images.shape
    if size > min(h, w):
        raise ValueError(f'tumour_crops: crop size {size} exceeds the image size {(h, w)}')
    crops = []
    for i in range(n):
        ys, xs = torch.nonzero(masks[i, 0] > 0, as_tuple=True)
        if len(ys) == 0:
            continue
        top = min(max((int(ys.min()) + int(ys.max()) + 1) // 2 - size // 2, 0), h - size)
        left = min(max((int(xs.min()) + int(xs.max()) + 1) // 2 - size // 2, 0), w - size)
        crops.append(images[i:i + 1, :, top:top + size, left:left + size])
    return torch.cat(crops) if crops else images.new_zeros((0, images.shape[1], size, size))


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    """Set ``requires_grad`` of every parameter of ``module`` (freeze or unfreeze it), in place.

    Args:
        module (nn.Module): The module whose parameters (its submodules' included) are changed.
        flag (bool): True to make them trainable, False to freeze them.
    """
    for p in module.parameters():
        p.requires_grad_(flag)


@MODELS.register_module()
class CycleGAN(BaseModel):
    """Unpaired image translation between ``domains = (a, b)`` (default CT -> MR), mmagic's ``CycleGAN`` layout.

    ``generators[b]`` translates a -> b and ``generators[a]`` b -> a; ``discriminators[d]`` judges domain d.
    Losses: LSGAN adversarial (``gan_loss``), cycle L1 (``cycle_loss``), identity L1 (``id_loss``, None to
    leave out) and, with ``tumour_loss`` and ``segmentor``, the tumour-aware term on the pseudo-b images
    (:class:`~visiondiv.models.losses.TumourAwareLoss`) using the masks ``inputs[mask_key]`` of domain a.

    Inputs (after ``data_preprocessor``): ``inputs`` is a dict with ``img_<a>``, ``img_<b>`` (N, C, H, W) in
    [-1, 1] and, for the tumour-aware term, ``mask_<a>`` (N, 1, H, W) 0/1 (with ``labelled_domain``, also
    ``img_<labelled_domain>`` and ``mask_<labelled_domain>``).

    ``optim_wrapper`` must be an ``OptimWrapperDict`` with ``generators``, ``discriminators`` (and
    ``segmentor`` when the segmentor has trainable parameters): ``MultiOptimWrapperConstructor``.
    Single-process training only for now: mmengine's ``MMDistributedDataParallel`` runs
    ``forward(mode='loss')`` (refused here) instead of this ``train_step``, and
    ``MMSeparateDistributedDataParallel`` would wrap the ``ModuleDict`` s themselves.

    Args:
        generator (dict): Config of both generators (e.g. ``ResnetGenerator``).
        discriminator (dict): Config of both discriminators (e.g. ``PatchDiscriminator``).
        domains (Sequence[str]): Source and target domain names (a, b), two different names.
            Defaults to ``('ct', 'mr')``.
        gan_loss (dict): Adversarial loss config (LSGAN). Defaults to ``dict(type='GANLoss', gan_type='lsgan')``.
        cycle_loss (dict): Cycle-consistency loss config (L1). Defaults to
            ``dict(type='mmdet.L1Loss', loss_weight=10.0)``.
        id_loss (dict, optional): Identity loss config (L1); None to leave it out. Defaults to
            ``dict(type='mmdet.L1Loss', loss_weight=5.0)``.
        tumour_loss (dict, optional): ``TumourAwareLoss`` config; needs ``segmentor`` (and the other way
            round). Defaults to None.
        segmentor (dict, optional): The tumour segmentation net applied to pseudo-b images:
            ``PretrainedSegmentor`` (a trained b-domain segmenter, frozen or fine-tuned; our configs) or
            ``TumourSegmentor`` (trained from scratch with the generators). Defaults to None.
        labelled_domain (str, optional): Name of labelled real b-domain slices in the batch (``img_<name>``,
            ``mask_<name>``, e.g. ``UnpairedSliceDataset(extra_domains=...)``): a trainable segmentor is also
            trained on them (``loss_tumour_seg_real``), so it keeps segmenting real b images while it learns
            the pseudo-b ones (the semi-supervised tumour-aware setting), and ``region_discriminator`` takes
            its real tumour regions from them. None: pseudo-b images only. It must differ from both
            ``domains`` and needs a trainable segmentor or ``region_discriminator``. Defaults to None.
        region_discriminator (dict, optional): A discriminator of tumour regions (``discriminators['<b>_tumour']``,
            in the discriminators' optimizer): ``region_size`` crops of the pseudo-b images centred on the
            a-domain tumours against crops of the labelled real b images centred on theirs (LSGAN, the
            generator's term weighted by ``region_weight``), so the tumour and what surrounds it look as in real
            b images. Needs ``labelled_domain``; a batch without a tumour on either side scores 0.
            Defaults to None.
        region_size (int): Side of the tumour-region crops, in pixels (> 0; checked only with
            ``region_discriminator``). Defaults to 24.
        region_weight (float): Weight of the generators' region adversarial term (>= 0; checked only with
            ``region_discriminator``). Defaults to 1.0.
        buffer_size (int): Image pool size of each discriminator (50 in CycleGAN; 0: none). Defaults to 50.
        data_preprocessor (dict, optional): ``TranslationDataPreprocessor`` by default ([0, 1] -> [-1, 1]).
            Defaults to ``dict(type='TranslationDataPreprocessor')``.
        init_cfg (dict, optional): mmengine init config of the whole model (the networks also have their own,
            N(0, 0.02) for the default generator and discriminator). Defaults to None.

    Raises:
        ValueError: If ``domains`` are not two different names, only one of ``tumour_loss`` and ``segmentor``
            is given, ``region_discriminator`` comes without ``labelled_domain`` or with a bad ``region_size``
            or ``region_weight``, or ``labelled_domain`` is invalid or has nothing to feed.
    """

    def __init__(self, generator: dict, discriminator: dict, domains: Sequence[str] = ('ct', 'mr'),
                 gan_loss: dict = dict(type='GANLoss', gan_type='lsgan'),
                 cycle_loss: dict = dict(type='mmdet.L1Loss', loss_weight=10.0),
                 id_loss: Optional[dict] = dict(type='mmdet.L1Loss', loss_weight=5.0),
                 tumour_loss: Optional[dict] = None, segmentor: Optional[dict] = None,
                 labelled_domain: Optional[str] = None, region_discriminator: Optional[dict] = None,
                 region_size: int = 24, region_weight: float = 1.0, buffer_size: int = 50,
                 data_preprocessor: Optional[dict] = dict(type='TranslationDataPreprocessor'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        domains = tuple(domains)
        if len(domains) != 2 or domains[0] == domains[1]:
            raise ValueError(f'CycleGAN: domains must be two different names, got {domains!r}')
        if (tumour_loss is None) != (segmentor is None):
            raise ValueError('CycleGAN: tumour_loss and segmentor go together (the tumour-aware term segments '
                             f'the pseudo-{domains[1]} images); got tumour_loss={tumour_loss!r}, '
                             f'segmentor={segmentor!r}')
        self.domains = domains
        a, b = domains
        # mmengine's ModuleDict (a BaseModule): init_weights reaches the networks' init_cfg (N(0, 0.02))
        self.generators = ModuleDict({b: MODELS.build(generator), a: MODELS.build(generator)})
        self.discriminators = ModuleDict({b: MODELS.build(discriminator), a: MODELS.build(discriminator)})
        self.segmentor = MODELS.build(segmentor) if segmentor is not None else None
        self.gan_loss = MODELS.build(gan_loss)
        self.cycle_loss = MODELS.build(cycle_loss)
        self.id_loss = MODELS.build(id_loss) if id_loss is not None else None
        self.tumour_loss = MODELS.build(tumour_loss) if tumour_loss is not None else None
        self.region_key = f'{b}_tumour'
        if region_discriminator is not None:
            if labelled_domain is None:
                raise ValueError('CycleGAN: region_discriminator compares pseudo-{0} tumour regions with real {0} '
                                 'ones; it needs labelled_domain (labelled real {0} slices)'.format(b))
            if not (isinstance(region_size, int) and region_size > 0 and region_weight >= 0):
                raise ValueError(f'CycleGAN: region_size must be an int > 0 and region_weight >= 0, got '
                                 f'{region_size!r}, {region_weight!r}')
            self.discriminators[self.region_key] = MODELS.build(region_discriminator)
        self.region_size, self.region_weight = region_size, float(region_weight)
        if labelled_domain is not None:
            if not isinstance(labelled_domain, str) or labelled_domain in domains:
                raise ValueError(f'CycleGAN: labelled_domain must name the labelled {b}-domain slices of the '
                                 f"batch (e.g. '{b}_labelled', other than {domains}), got {labelled_domain!r}")
            if not self.trains_segmentor and region_discriminator is None:
                raise ValueError(f'CycleGAN: labelled_domain={labelled_domain!r} feeds labelled real {b} images to '
                                 f'a trainable segmentor (PretrainedSegmentor(frozen=False) or TumourSegmentor) or '
                                 f'to region_discriminator; neither is there (segmentor={segmentor!r})')
        self.mask_key = f'mask_{a}'
        self.labelled_domain = labelled_domain
        self.pools = {d: ImagePool(buffer_size) for d in domains}

    # -- helpers --------------------------------------------------------------------------------------------
    @property
    def trains_segmentor(self) -> bool:
        """Whether the segmentor has trainable parameters (then it has its own optimizer and learns)."""
        return self.segmentor is not None and any(p.requires_grad for p in self.segmentor.parameters())

    @staticmethod
    def _take(inputs: Dict[str, Tensor], key: str) -> Tensor:
        if not isinstance(inputs, dict) or key not in inputs:
            present = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise KeyError(f"CycleGAN: the batch has no '{key}' (inputs: {present}); the dataset's pipeline must "
                           f"pack it (PackTranslationInputs(keys=...))")
        return inputs[key]

    def translate(self, x: Tensor, target_domain: Optional[str] = None) -> Tensor:
        """``x`` in [-1, 1] translated to ``target_domain`` (default: the second domain, e.g. MR)."""
        target = target_domain or self.domains[1]
        if target not in self.generators:
            raise KeyError(f'CycleGAN: no generator to {target!r}; domains are {self.domains}')
        return self.generators[target](x)

    def _translate_all(self, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        a, b = self.domains
        out = {}
        if f'img_{a}' in inputs:
            out[f'img_{a}'] = inputs[f'img_{a}']
            out[f'fake_{b}'] = self.generators[b](inputs[f'img_{a}'])
            out[f'rec_{a}'] = self.generators[a](out[f'fake_{b}'])
        if f'img_{b}' in inputs:
            out[f'img_{b}'] = inputs[f'img_{b}']
            out[f'fake_{a}'] = self.generators[a](inputs[f'img_{b}'])
            out[f'rec_{b}'] = self.generators[b](out[f'fake_{a}'])
        if not out:
            self._take(inputs, f'img_{a}')          # raises, naming the keys present
        if self.mask_key in inputs:
            out[self.mask_key] = inputs[self.mask_key]
        return out

    # -- mmengine interface -----------------------------------------------------------------------------------
    def forward(self, inputs: Dict[str, Tensor], data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[BaseDataElement]]:
        """``tensor``: dict of ``img_<a>``, ``fake_<b>``, ``rec_<a>`` (and ``img_<b>``, ``fake_<a>``, ``rec_<b>``
        when the batch has domain b) in [-1, 1]; ``predict``: one ``BaseDataElement`` per sample with those
        fields (``real_<b>`` = ``img_<b>``) and the sample's metainfo, for metrics such as ``IntensityKL``."""
        if mode == 'loss':
            raise RuntimeError("CycleGAN optimises in train_step (discriminators, then generators); "
                               "forward(mode='loss') has no single loss to return")
        out = self._translate_all(inputs)
        if mode == 'tensor':
            return out
        if mode != 'predict':
            raise ValueError(f"CycleGAN: mode must be 'tensor' or 'predict', got {mode!r}")
        b = self.domains[1]
        if f'img_{b}' in out:
            out[f'real_{b}'] = out[f'img_{b}']
        n = next(iter(out.values())).shape[0]
        results = []
        for i in range(n):
            sample = BaseDataElement(metainfo=data_samples[i].metainfo if data_samples else {})
            for key, value in out.items():
                sample.set_field(value[i].detach(), key)
            results.append(sample)
        return results

    def train_step(self, data: Union[dict, tuple, list], optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One discriminator update on both domains, then one generator (and segmentor) update."""
        trains_segmentor = self.trains_segmentor
        wanted = ['generators', 'discriminators'] + (['segmentor'] if trains_segmentor else [])
        missing = [k for k in wanted if k not in getattr(optim_wrapper, 'optim_wrappers', {})]
        if missing:
            raise KeyError(f'CycleGAN: optim_wrapper needs entries {wanted} (MultiOptimWrapperConstructor); '
                           f'missing {missing}')
        # the segmentor's gradients come from the generators' backward pass, so it accumulates as they do
        counts = {k: optim_wrapper[k]._accumulative_counts for k in ('generators', 'segmentor') if k in wanted}
        if len(set(counts.values())) > 1:
            raise ValueError('CycleGAN: optim_wrapper accumulative_counts of the segmentor and the generators '
                             f'must be equal (one backward pass); got {counts}')
        if trains_segmentor and any(isinstance(w, AmpOptimWrapper) for w in optim_wrapper.values()):
            raise NotImplementedError('CycleGAN with a segmentor (tumour-aware term) does not support --amp: '
                                      'the generators and the segmentor share one backward pass')
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        a, b = self.domains
        real = {a: self._take(inputs, f'img_{a}'), b: self._take(inputs, f'img_{b}')}
        regional = self.region_key in self.discriminators
        mask = self._take(inputs, self.mask_key) if self.tumour_loss is not None or regional else None
        if regional:    # tumour regions: pseudo-b at the a-domain tumours vs real b at the labelled tumours
            real_regions = tumour_crops(self._take(inputs, f'img_{self.labelled_domain}'),
                                        self._take(inputs, f'mask_{self.labelled_domain}'), self.region_size)

        gen_wrapper, disc_wrapper = optim_wrapper['generators'], optim_wrapper['discriminators']
        with gen_wrapper.optim_context(self.generators):
            fake = {b: self.generators[b](real[a]), a: self.generators[a](real[b])}
        # the pseudo-b tumour regions, for both updates (detached for the discriminator's)
        fake_regions = tumour_crops(fake[b], mask, self.region_size) if regional else None

        # discriminators: real vs (pooled) fake, each domain
        set_requires_grad(self.discriminators, True)
        with disc_wrapper.optim_context(self.discriminators):
            disc_losses = {}
            for d in (b, a):
                pooled = self.pools[d].query(fake[d].detach())
                disc_losses[f'loss_gan_d_{d}'] = 0.5 * (
                    self.gan_loss(self.discriminators[d](real[d]), True, is_disc=True)
                    + self.gan_loss(self.discriminators[d](pooled), False, is_disc=True))
            if regional:
                disc_losses['loss_gan_d_region'] = real_regions.new_zeros(())
                if len(real_regions) and len(fake_regions):
                    disc = self.discriminators[self.region_key]
                    disc_losses['loss_gan_d_region'] = 0.5 * (
                        self.gan_loss(disc(real_regions), True, is_disc=True)
                        + self.gan_loss(disc(fake_regions.detach()), False, is_disc=True))
            loss_d, log_vars = self.parse_losses(disc_losses)
        disc_wrapper.update_params(loss_d)

        # generators (and segmentor) against the updated, frozen discriminators
        set_requires_grad(self.discriminators, False)
        with gen_wrapper.optim_context(self.generators):
            gen_losses = {}
            rec = {a: self.generators[a](fake[b]), b: self.generators[b](fake[a])}
            for d in (b, a):
                gen_losses[f'loss_gan_g_{d}'] = self.gan_loss(self.discriminators[d](fake[d]), True, is_disc=False)
            if regional:
                gen_losses['loss_gan_g_region'] = fake[b].new_zeros(())
                if len(fake_regions):
                    gen_losses['loss_gan_g_region'] = self.region_weight * self.gan_loss(
                        self.discriminators[self.region_key](fake_regions), True, is_disc=False)
            for d in (a, b):
                gen_losses[f'loss_cycle_{d}'] = self.cycle_loss(rec[d], real[d])
                if self.id_loss is not None:
                    gen_losses[f'loss_id_{d}'] = self.id_loss(self.generators[d](real[d]), real[d])
            if self.tumour_loss is not None:
                gen_losses.update(self.tumour_loss(self.segmentor(fake[b]), mask, rec[a], real[a]))
                if self.labelled_domain is not None and trains_segmentor:   # it learns real b tumours too
                    lab = self.labelled_domain
                    gen_losses['loss_tumour_seg_real'] = self.tumour_loss.labelled_loss(
                        self.segmentor(self._take(inputs, f'img_{lab}')), self._take(inputs, f'mask_{lab}'))
            loss_g, log_g = self.parse_losses(gen_losses)
        gen_wrapper.update_params(loss_g)
        if trains_segmentor and gen_wrapper.should_update():      # same backward pass: step with the generators
            optim_wrapper['segmentor'].step()
            optim_wrapper['segmentor'].zero_grad()
        set_requires_grad(self.discriminators, True)
        log_vars.pop('loss', None)
        log_g.pop('loss', None)
        log_vars.update(log_g)
        log_vars.update(loss_d=loss_d, loss_g=loss_g)
        return {k: v.detach() for k, v in log_vars.items()}

    def val_step(self, data: Union[dict, tuple, list]) -> List[BaseDataElement]:
        data = self.data_preprocessor(data, False)
        with torch.no_grad():
            return self(**data, mode='predict')

    def test_step(self, data: Union[dict, tuple, list]) -> List[BaseDataElement]:
        return self.val_step(data)

    def segment(self, x: Tensor) -> Tensor:
        """Tumour probabilities (N, 1, H, W) of the segmentor on domain-b images ``x`` in [-1, 1]."""
        if self.segmentor is None:
            raise RuntimeError('CycleGAN: this model has no segmentor (no tumour-aware term)')
        return torch.sigmoid(self.segmentor(x))

