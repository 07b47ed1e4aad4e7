# Copyright (c) mmieee contributors.
"""MultiModalReIDInferencer: ranking against a brute-force reference and the
metric, the gallery cache, the gallery sources, the visualizer call."""
import os
from pathlib import Path

import cv2
import mmengine
import numpy as np
import pytest
import torch

import mmieee.apis.gallery as gallery_module
from mmieee.apis import MultiModalReIDInferencer, extract_features, init_model
from mmieee.evaluation.functional import distance_rows, evaluate_rows

MODS = ('RGB', 'NI', 'TI')


@pytest.fixture
def count_extractions(monkeypatch):
    """Count the gallery extractions (calls of extract_features)."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return extract_features(*args, **kwargs)

    monkeypatch.setattr(gallery_module, 'extract_features', counting)
    return calls


@pytest.fixture(scope='module')
def reference(tiny_files):
    """Features of the test split by extract_features (the reference)."""
    model = init_model(tiny_files['config'], tiny_files['checkpoint'])
    test = Path(tiny_files['root']) / 'test'
    names = sorted(os.listdir(test / 'RGB'))
    paths = [[str(test / m / n) for m in MODS] for n in names]
    feats = extract_features(model, paths).feats.astype(np.float64)
    ids = np.array([[int(n[:6]), int(n[10]) - 1] for n in names])
    return dict(paths=paths, feats=feats, pids=ids[:, 0], camids=ids[:, 1],
                test=str(test))


def _brute_force(q, g, q_id, g_ids, k):
    """Stable argsort of squared distances, same-id same-camera removed."""
    d = ((g - q)**2).sum(1)
    order = np.argsort(d, kind='stable')
    if q_id is not None:
        order = [j for j in order if tuple(g_ids[j]) != q_id]
    return list(order[:k])


def test_topk_equals_brute_force_ranking(tiny_files, reference, tmp_path):
    inf = MultiModalReIDInferencer(
        tiny_files['config'], tiny_files['checkpoint'],
        gallery=reference['test'], cache_dir=str(tmp_path))
    g_ids = np.stack([reference['pids'], reference['camids']], 1)
    queries = [reference['paths'][i] for i in (0, 5, 11)]
    results = inf(queries, topk=5)
    for res, i in zip(results, (0, 5, 11)):
        q_id = (reference['pids'][i], reference['camids'][i])
        assert (res['query']['pid'], res['query']['camid']) == q_id
        want = _brute_force(reference['feats'][i], reference['feats'], q_id,
                            g_ids, 5)
        got = [m['gallery_index'] for m in res['matches']]
        assert got == want
        assert res['num_excluded'] == 2  # itself and its camera twin
        for m in res['matches']:
            j = m['gallery_index']
            assert (m['pid'], m['camid']) == tuple(g_ids[j])
            assert m['img_paths'] == reference['paths'][j]
            assert m['same_id'] == (m['pid'] == q_id[0])
            d = ((reference['feats'][j] - reference['feats'][i])**2).sum()
            assert m['distance'] == pytest.approx(d, rel=1e-4, abs=1e-6)
    # arrays have no ids: nothing is excluded, the query finds itself
    arrays = [cv2.imread(p)[..., ::-1].copy() for p in reference['paths'][3]]
    res = inf([arrays], topk=3)[0]
    assert res['query']['pid'] is None and res['num_excluded'] == 0
    assert res['matches'][0]['gallery_index'] == 3
    assert res['matches'][0]['distance'] == pytest.approx(0, abs=1e-4)
    assert [m['gallery_index'] for m in res['matches']] == _brute_force(
        reference['feats'][3], reference['feats'], None, None, 3)


def test_rank_one_is_the_metrics_rank_one(tiny_files, reference, tmp_path):
    """Folder as queries and gallery: the rank of each query's first
    positive equals ReIDMetric's (evaluate_rows over distance_rows)."""
    inf = MultiModalReIDInferencer(
        tiny_files['config'], tiny_files['checkpoint'],
        gallery=reference['test'], cache_dir=None)
    n = len(reference['paths'])
    results = inf(reference['test'], topk=n)
    feats = torch.from_numpy(reference['feats'].astype(np.float32))
    row_fn, num_query, _ = distance_rows(feats, feats)
    metric = evaluate_rows(row_fn, num_query, reference['pids'],
                           reference['pids'], reference['camids'],
                           reference['camids'], per_query=True)
    first = [
        next(m['rank'] for m in r['matches'] if m['same_id'])
        for r in results
    ]
    assert first == metric['first_rank'].tolist()


def test_gallery_cache_is_reused_and_invalidated(tiny_files, reference,
                                                 tiny_cfg, tmp_path,
                                                 count_extractions):
    cache = str(tmp_path / 'cache')
    ckpt = tiny_files['checkpoint']
    first = MultiModalReIDInferencer(tiny_files['config'], ckpt,
                                     gallery=reference['test'],
                                     cache_dir=cache)
    assert len(count_extractions) == 1
    assert len(os.listdir(cache)) == 1
    # same checkpoint content under another name, same gallery: no extraction
    copy = tmp_path / 'renamed.pth'
    copy.write_bytes(Path(ckpt).read_bytes())
    second = MultiModalReIDInferencer(tiny_files['config'], str(copy),
                                      gallery=reference['test'],
                                      cache_dir=cache)
    assert len(count_extractions) == 1
    np.testing.assert_array_equal(second.gallery.feats, first.gallery.feats)
    np.testing.assert_array_equal(second.gallery.pids, reference['pids'])
    # other weights written to the same path: extracted again
    tiny_cfg.save_weights(tiny_files['cfg'], copy, seed=1)
    third = MultiModalReIDInferencer(tiny_files['config'], str(copy),
                                     gallery=reference['test'],
                                     cache_dir=cache)
    assert len(count_extractions) == 2
    assert not np.allclose(third.gallery.feats, first.gallery.feats)
    # a gallery image rewritten: extracted again
    os.utime(reference['paths'][0][0], ns=(1, 1))
    MultiModalReIDInferencer(tiny_files['config'], ckpt,
                             gallery=reference['test'], cache_dir=cache)
    assert len(count_extractions) == 3


def test_gallery_sources_agree(tiny_files, reference, tmp_path):
    """Dataset config, dataset root and --dump feature file give the
    gallery of the folder."""
    base = dict(tiny_files['cfg'].test_dataloader.dataset)
    dump = {'feats': reference['feats'].astype(np.float32),
            'pids': reference['pids'], 'camids': reference['camids'],
            'is_query': np.ones(12, bool),
            'is_gallery': np.arange(12) % 2 == 0,
            'img_paths': reference['paths']}
    mmengine.dump(dump, str(tmp_path / 'dump.pkl'))
    kwargs = dict(cache_dir=None)
    inf = MultiModalReIDInferencer(tiny_files['config'],
                                   tiny_files['checkpoint'], **kwargs)
    for source in (base, tiny_files['root']):
        gallery = inf.set_gallery(source)
        np.testing.assert_allclose(gallery.feats, reference['feats'],
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(gallery.camids, reference['camids'])
        assert gallery.img_paths == reference['paths']
    gallery = inf.set_gallery(str(tmp_path / 'dump.pkl'))
    assert len(gallery) == 6  # the is_gallery rows
    assert gallery.img_paths == reference['paths'][::2]
    res = inf(reference['paths'][1], topk=6)[0]
    want = _brute_force(reference['feats'][1], reference['feats'][::2],
                        (reference['pids'][1], reference['camids'][1]),
                        np.stack([reference['pids'], reference['camids']],
                                 1)[::2], 6)
    assert [m['gallery_index'] for m in res['matches']] == want


def test_faiss_backend_ranks_as_the_exact_path(tiny_files, reference):
    pytest.importorskip('faiss', reason='faiss-cpu: pip install -e .[deploy]')
    kwargs = dict(gallery=reference['test'], cache_dir=None)
    exact = MultiModalReIDInferencer(tiny_files['config'],
                                     tiny_files['checkpoint'], **kwargs)
    fast = MultiModalReIDInferencer(tiny_files['config'],
                                    tiny_files['checkpoint'],
                                    backend='faiss', **kwargs)
    a, b = exact(reference['test'], topk=8), fast(reference['test'], topk=8)
    for x, y in zip(a, b):
        assert [m['gallery_index'] for m in x['matches']] == \
            [m['gallery_index'] for m in y['matches']]
        np.testing.assert_allclose([m['distance'] for m in x['matches']],
                                   [m['distance'] for m in y['matches']],
                                   rtol=1e-4, atol=1e-5)
        assert x['num_excluded'] == y['num_excluded']


def test_errors_name_the_query(tiny_files, reference):
    inf = MultiModalReIDInferencer(tiny_files['config'],
                                   tiny_files['checkpoint'], cache_dir=None)
    with pytest.raises(RuntimeError, match='no gallery'):
        inf(reference['paths'][0])
    inf.set_gallery(reference['test'])
    triplet = reference['paths'][0]
    with pytest.raises(ValueError, match=r'query 0 has 2 image\(s\)'):
        inf([triplet[:2]])
    with pytest.raises(FileNotFoundError, match=r"query 1 \(TI\): image "
                       r"file '.*missing.jpg' does not exist"):
        inf([triplet, triplet[:2] + ['missing.jpg']])
    with pytest.raises(ValueError, match=r"\('TI', 'NI', 'RGB'\), but the "
                       r"model takes \('RGB', 'NI', 'TI'\)"):
        inf(triplet[::-1])


def test_nothing_is_drawn_without_out_dir(tiny_files, reference,
                                          monkeypatch):
    inf = MultiModalReIDInferencer(tiny_files['config'],
                                   tiny_files['checkpoint'],
                                   gallery=reference['test'], cache_dir=None)
    monkeypatch.setattr(inf, 'visualize', None)  # would fail if called
    res = inf(reference['paths'][0], topk=2)
    assert 'vis_path' not in res[0] and len(res[0]['matches']) == 2


def test_visualize_calls_draw_rank_list(tiny_files, reference, tmp_path):
    calls = []

    class StubVisualizer:
        def draw_rank_list(self, query_images, gallery_images, distances,
                           matches=None, modalities=('RGB', 'NI', 'TI'),
                           title='', query_caption='',
                           gallery_captions=None):
            calls.append(dict(query_images=query_images,
                              gallery_images=gallery_images,
                              distances=distances, matches=matches,
                              modalities=modalities, title=title,
                              query_caption=query_caption,
                              gallery_captions=gallery_captions))
            return np.full((10, 20, 3), (255, 0, 0), np.uint8)  # red

    inf = MultiModalReIDInferencer(tiny_files['config'],
                                   tiny_files['checkpoint'],
                                   gallery=reference['test'], cache_dir=None)
    inf.visualizer = StubVisualizer()
    res = inf(reference['paths'][2], topk=3, out_dir=str(tmp_path))[0]
    (call, ) = calls
    assert call['modalities'] == MODS
    assert len(call['query_images']) == 3
    for img, path in zip(call['query_images'], reference['paths'][2]):
        assert img.dtype == np.uint8 and img.shape == (64, 32, 3)
        np.testing.assert_array_equal(img, cv2.imread(path)[..., ::-1])
    assert len(call['gallery_images']) == 3
    for imgs, m in zip(call['gallery_images'], res['matches']):
        assert len(imgs) == 3
        np.testing.assert_array_equal(
            imgs[2], cv2.imread(m['img_paths'][2])[..., ::-1])
    assert call['distances'] == [m['distance'] for m in res['matches']]
    assert call['matches'] == [m['same_id'] for m in res['matches']]
    assert all(isinstance(x, bool) for x in call['matches'])
    # the rank-list tool's captions: ids under every item, skipped count
    pid, cam = reference['pids'][2], reference['camids'][2]
    assert f'id {pid}, camid {cam}' in call['title']
    assert call['query_caption'] == f'id {pid}, camid {cam}'
    assert call['gallery_captions'] == [
        f'id {m["pid"]}, camid {m["camid"]}' for m in res['matches']]
    assert f'{res["num_excluded"]} gallery item(s) with the same id' \
        in call['title']
    saved = cv2.imread(res['vis_path'])  # BGR on disk
    assert saved.shape == (10, 20, 3)
    assert (saved[..., 2] == 255).all() and (saved[..., :2] == 0).all()


def test_feature_file_cannot_run_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned', ))

    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'feats': Evil()}))
    with pytest.raises(pickle.UnpicklingError, match=r'holds a posix.system '
                       'object; only numpy arrays'):
        gallery_module.load_feature_file(str(path))


def test_visualize_with_the_real_rank_list_visualizer(tiny_files, reference,
                                                      tmp_path):
    """With mmieee.visualization installed the inferencer draws through
    ReIDVisualizer: one picture per query whose frames below the column
    titles are green for the same identity and red otherwise."""
    pytest.importorskip('matplotlib', reason='pip install -e .[vis]')
    from mmieee.visualization import ReIDVisualizer
    inf = MultiModalReIDInferencer(tiny_files['config'],
                                   tiny_files['checkpoint'],
                                   gallery=reference['test'], cache_dir=None)
    assert isinstance(inf.visualizer, ReIDVisualizer)
    res = inf(reference['paths'][2], topk=4, out_dir=str(tmp_path))[0]
    rgb = cv2.imread(res['vis_path'])[..., ::-1].astype(int)
    green = (rgb[..., 1] > 150) & (rgb[..., 0] < 80) & (rgb[..., 2] < 80)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    same = [m['same_id'] for m in res['matches']]
    assert len(same) == 4
    assert green.any() == any(same) and red.any() == (not all(same))


def test_cache_is_keyed_by_the_weights_in_memory(tiny_files, reference,
                                                 tiny_cfg, tmp_path,
                                                 count_extractions):
    """The checkpoint replaced while an inferencer runs: its gallery
    features (of the weights it loaded) must not be read for the new
    weights; and within one process a replacement with the same size and
    mtime is not a hit."""
    cache = str(tmp_path / 'cache')
    ckpt = tmp_path / 'model.pth'
    tiny_cfg.save_weights(tiny_files['cfg'], ckpt, seed=0)
    running = MultiModalReIDInferencer(tiny_files['config'], str(ckpt),
                                       cache_dir=cache)
    stat = ckpt.stat()
    tiny_cfg.save_weights(tiny_files['cfg'], ckpt, seed=1)
    assert ckpt.stat().st_size == stat.st_size
    os.utime(ckpt, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    running.set_gallery(reference['test'])  # old weights, after the swap
    assert len(count_extractions) == 1
    new = MultiModalReIDInferencer(tiny_files['config'], str(ckpt),
                                   gallery=reference['test'],
                                   cache_dir=cache)
    assert len(count_extractions) == 2  # not the old weights' features
    assert not np.allclose(new.gallery.feats, running.gallery.feats)
    again = MultiModalReIDInferencer(tiny_files['config'], str(ckpt),
                                     gallery=reference['test'],
                                     cache_dir=cache)
    assert len(count_extractions) == 2  # the new weights' entry is a hit
    np.testing.assert_array_equal(again.gallery.feats, new.gallery.feats)


def test_gallery_of_samples_is_named_briefly(tiny_files, reference,
                                             tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr('mmieee.apis.gallery.print_log',
                        lambda msg, **kw: logged.append(msg))
    samples = [list(p) for p in reference['paths']]
    MultiModalReIDInferencer(tiny_files['config'], tiny_files['checkpoint'],
                             gallery=samples, cache_dir=str(tmp_path))
    assert len(logged) == 1
    assert logged[0].startswith(f'gallery features of {len(samples)} '
                                f'samples, the first {samples[0][0]} cached')
    assert len(logged[0]) < 300
