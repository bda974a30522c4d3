"""The model-zoo metadata (configs/*/metafile.yml, model-index.yml) in mmrotate's format is complete and true.

Every metafile parses and has the fields mim reads, every config of a method folder is listed,
every path exists, and every number is one its README states (toy numbers backed by a study's
runs.json equal the seed means there).
"""
import glob
import os.path as osp
import re

import pytest
import yaml

from tests.script_loader import ROOT, load_script

METHODS = sorted(osp.basename(osp.dirname(p)) for p in glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))
METAFILES = [f'configs/{m}/metafile.yml' for m in METHODS]
# method folders with configs that have no metafile would be missed by the globs above
CONFIG_DIRS = sorted(osp.basename(d) for d in glob.glob(osp.join(ROOT, 'configs', '*'))
                     if osp.isdir(d) and osp.basename(d) != '_base_' and glob.glob(osp.join(d, '*.py')))
SFDA_METRICS = {'mDice': 'mdice', 'Dice organ': 'dice_organ', 'Dice lesion': 'dice_lesion', 'mASSD': 'massd'}


def load(rel: str) -> dict:
    with open(osp.join(ROOT, rel), encoding='utf-8') as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict), f'{rel}: not a YAML mapping'
    return data


def all_models():
    for rel in METAFILES:
        for model in load(rel).get('Models') or []:
            yield rel, model


def test_every_config_folder_has_a_metafile():
    assert CONFIG_DIRS == METHODS, f'config folders without configs/<method>/metafile.yml: ' \
                                   f'{sorted(set(CONFIG_DIRS) - set(METHODS))}'


def test_model_index_imports_every_metafile():
    index = load('model-index.yml')
    imports = index.get('Import') or []
    for rel in imports:
        assert osp.isfile(osp.join(ROOT, rel)), f'model-index.yml imports {rel}, which does not exist'
    assert sorted(imports) == sorted(METAFILES), 'model-index.yml Import must list every configs/*/metafile.yml'


@pytest.mark.parametrize('rel', METAFILES)
def test_collections(rel):
    data = load(rel)
    assert set(data) <= {'Collections', 'Models'}, f'{rel}: unexpected top-level keys {sorted(data)}'
    collections = data.get('Collections') or []
    assert collections, f'{rel}: no Collections'
    for col in collections:
        where = f'{rel}: collection {col.get("Name")!r}'
        for key in ('Name', 'Metadata', 'Paper', 'README', 'Code'):
            assert col.get(key), f'{where}: missing {key}'
        assert col['Paper'].get('URL', '').startswith('https://') and col['Paper'].get('Title'), \
            f'{where}: Paper needs URL and Title'
        assert osp.isfile(osp.join(ROOT, col['README'])), f'{where}: README {col["README"]} not found'
        assert osp.exists(osp.join(ROOT, col['Code']['URL'])), f'{where}: Code URL {col["Code"]["URL"]} not found'


@pytest.mark.parametrize('rel', METAFILES)
def test_models_list_every_config_of_the_folder(rel):
    data = load(rel)
    method = rel.split('/')[1]
    collections = {c['Name'] for c in data['Collections']}
    listed = []
    for model in data.get('Models') or []:
        where = f'{rel}: model {model.get("Name")!r}'
        for key in ('Name', 'In Collection', 'Config', 'Metadata'):
            assert model.get(key), f'{where}: missing {key}'
        assert model['In Collection'] in collections, f'{where}: In Collection {model["In Collection"]!r} unknown'
        cfg = model['Config']
        assert osp.isfile(osp.join(ROOT, cfg)), f'{where}: Config {cfg} not found'
        assert cfg.startswith(f'configs/{method}/'), f'{where}: Config {cfg} is not in configs/{method}/'
        assert model['Name'] == osp.splitext(osp.basename(cfg))[0], f'{where}: Name must be the config name'
        assert model['Metadata'].get('Training Data'), f'{where}: Metadata needs Training Data'
        # we publish no checkpoints; a Weights entry must point at a file that exists
        assert 'Weights' not in model or osp.isfile(osp.join(ROOT, model['Weights'])), \
            f'{where}: Weights {model["Weights"]} does not exist'
        if 'README' in model:
            assert osp.isfile(osp.join(ROOT, model['README'])), f'{where}: README {model["README"]} not found'
        listed.append(cfg)
    assert len(listed) == len(set(listed)), f'{rel}: a config is listed twice'
    on_disk = sorted(osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', method, '*.py')))
    assert sorted(listed) == on_disk, f'{rel}: configs not listed: {sorted(set(on_disk) - set(listed))}'


def test_model_names_are_unique_across_the_index():
    names = [m['Name'] for _, m in all_models()]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def _readme_of(rel: str, model: dict) -> str:
    data = load(rel)
    readme = model.get('README') or next(c['README'] for c in data['Collections']
                                         if c['Name'] == model['In Collection'])
    with open(osp.join(ROOT, readme), encoding='utf-8') as f:
        return f.read()


@pytest.mark.parametrize('rel', METAFILES)
def test_results_are_numbers_the_readme_states(rel):
    for model in load(rel).get('Models') or []:
        where = f'{rel}: model {model["Name"]!r}'
        results = model.get('Results') or []
        meta = model['Metadata']
        if not results:
            assert 'Results Source' not in meta, f'{where}: Results Source without Results'
            continue
        source = meta.get('Results Source')
        assert source in ('published', 'measured here'), \
            f"{where}: Metadata 'Results Source' must be 'published' or 'measured here', not {source!r}"
        readme = _readme_of(rel, model)
        for res in results:
            for key in ('Task', 'Dataset', 'Metrics'):
                assert res.get(key), f'{where}: a result misses {key}'
            # our measurements are on the toy sets only; published numbers never are
            assert res['Dataset'].startswith('toy-') == (source == 'measured here'), \
                f'{where}: Dataset {res["Dataset"]!r} does not fit Results Source {source!r}'
            for metric, value in res['Metrics'].items():
                assert isinstance(value, (int, float)), f'{where}: {metric} is not a number'
                assert f'{value:.2f}' in readme or f'{value:.3f}' in readme, \
                    f'{where}: {metric}={value} is not stated in its README'


def _study_means(runs_rel, row: str) -> dict:
    """Seed means of ``row`` in one runs.json, or in several results folders of one study merged (a list)."""
    tables = load_script('benchmarks', 'result_tables.py')
    rels = [runs_rel] if isinstance(runs_rel, str) else list(runs_rel)
    results_dirs = {osp.dirname(osp.dirname(rel)) for rel in rels}
    assert len(results_dirs) == 1, f'{rels}: merged runs.json must share one results folder'
    folders = [osp.basename(osp.dirname(rel)) for rel in rels]
    runs = tables.load_runs('+'.join(folders), osp.join(ROOT, results_dirs.pop()))
    study = tables.study_of(folders[0])
    if study == 'loss_study':
        return tables.loss_study_means(runs, row)
    if study == 'crossmodal_study':
        return tables.crossmodal_study_means(runs, row)
    if study == 'gcd_study':
        return tables.gcd_study_means(runs, row)
    if study == 'kd_study':
        return tables.kd_study_means(runs, row)
    if study == 'spread':  # every run of the config (seeds and kernel paths); the row names the config
        return tables.spread_means(runs)
    means = tables.sfda_study_means(runs, row)
    return {name: means[key] for name, key in SFDA_METRICS.items() if key in means}


def test_toy_results_equal_the_study_runs():
    checked = 0
    for rel, model in all_models():
        meta = model['Metadata']
        if 'Results Runs' not in meta:
            continue
        where = f'{rel}: model {model["Name"]!r}'
        runs_rels = [meta['Results Runs']] if isinstance(meta['Results Runs'], str) else meta['Results Runs']
        for runs_rel in runs_rels:
            assert osp.isfile(osp.join(ROOT, runs_rel)), f'{where}: {runs_rel} not found'
        expected = _study_means(meta['Results Runs'], meta['Results Row'])
        (result,) = model['Results']
        for metric, value in result['Metrics'].items():
            assert metric in expected, f'{where}: {metric} is not a metric of {meta["Results Runs"]}'
            assert value == pytest.approx(expected[metric], abs=5e-4), \
                f'{where}: {metric}={value}, but {meta["Results Runs"]} row {meta["Results Row"]!r} gives ' \
                f'{expected[metric]}'
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize('rel', METAFILES)
def test_readme_cites_the_collection_paper(rel):
    """Each method README ends with a BibTeX ``## Citation`` whose title is the metafile's paper."""
    for col in load(rel)['Collections']:
        with open(osp.join(ROOT, col['README']), encoding='utf-8') as f:
            text = f.read()
        assert '\n## Citation\n' in text, f'{col["README"]}: no ## Citation section'
        bib = text.split('\n## Citation\n', 1)[1]
        assert '```bibtex\n@' in bib, f'{col["README"]}: the citation is not a bibtex block'
        titles = [t.replace('{', '').replace('}', '').lower()
                  for t in re.findall(r'^\s*title\s*=\s*\{(.+)\},?$', bib, re.M)]
        assert col['Paper']['Title'].lower() in titles, \
            f'{col["README"]}: cites {titles}, not the metafile paper {col["Paper"]["Title"]!r}'
