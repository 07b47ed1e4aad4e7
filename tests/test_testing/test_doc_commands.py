# Copyright (c) mmieee contributors.
"""How the docs' commands are found (mmieee.testing.doc_commands)."""
from mmieee.testing.doc_commands import code_blocks, page_commands

PAGE = '''# A page

Run `python tools/train.py CONFIG --resume` or `tools/test.py --dump`; the
tool `tools/test.py` alone is no command, nor is `python`.

```bash
CKPT=work_dirs/x/epoch_8.pth
T=data/t; Q=q.jpg
# needs: data/RGBNT201
python tools/test.py configs/a.py $CKPT \\
    --out m.json  # prints the metrics
python tools/train.py configs/a.py  # needs: GPU, pretrained/vit.pth
for s in 0 1; do
  echo $s
done
```

* In a list:

  ```bash
  python tools/vis.py $CKPT --out-dir vis [--topk 10]
  ```

```python
print('not a shell block')
```
'''


def commands(tmp_path):
    path = tmp_path / 'page.md'
    path.write_text(PAGE)
    return path, page_commands(path, tmp_path)


def test_blocks_are_found_and_de_indented(tmp_path):
    path, _ = commands(tmp_path)
    blocks = code_blocks(path, tmp_path)
    assert [b.lang for b in blocks] == ['bash', 'bash', 'python']
    assert blocks[1].text == 'python tools/vis.py $CKPT --out-dir vis ' \
        '[--topk 10]\n'
    assert blocks[0].page == 'page.md' and blocks[0].line == 6


def test_block_commands(tmp_path):
    _, found = commands(tmp_path)
    texts = [c.text for c in found]
    assert texts[:7] == [
        'CKPT=work_dirs/x/epoch_8.pth', 'T=data/t', 'Q=q.jpg',
        'python tools/test.py configs/a.py $CKPT --out m.json',
        'python tools/train.py configs/a.py',
        'for s in 0 1; do echo $s done',
        'python tools/vis.py $CKPT --out-dir vis [--topk 10]']
    test, train, loop, vis = found[3:7]
    assert [c.is_assignment for c in found[:4]] == [True] * 3 + [False]
    assert test.needs == ('data/RGBNT201', ) and test.line == 10
    assert 'prints the metrics' in test.comment
    assert train.needs == ('GPU', 'pretrained/vit.pth')
    assert loop.needs == ()
    # the assignments above it, in its block and the page's earlier ones
    assert test.setup == ('CKPT=work_dirs/x/epoch_8.pth', 'T=data/t',
                          'Q=q.jpg')
    assert vis.setup == test.setup
    assert vis.is_synopsis and not test.is_synopsis
    assert not loop.is_synopsis


def test_inline_commands(tmp_path):
    _, found = commands(tmp_path)
    inline = [c for c in found if c.inline]
    assert [c.text for c in inline] == [
        'python tools/train.py CONFIG --resume', 'tools/test.py --dump']
    assert all(c.is_synopsis for c in inline)
    assert inline[0].line == 3
