"""datasets.mnist: the real t10k files (gz and raw), generated idx files, corrupt input, TF1
next_batch semantics, and downloads from a local HTTP server with checksum verification."""

import functools
import gzip
import hashlib
import http.server
import os
import shutil
import threading

import numpy as np
import pytest

from headwater.datasets import mnist

SHARED = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                       "data", "mnist"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/data/mnist"
have_shared = pytest.mark.skipif(not os.path.exists(os.path.join(
    SHARED, "t10k-images-idx3-ubyte.gz")), reason="shared MNIST test files not available")


def _idx(arr, magic):
    arr = np.asarray(arr, np.uint8)
    head = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.tobytes()


def _write(path, data, gz=True):
    if gz:
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _small_set(directory, n_train=30, n_test=12, gz=True, seed=0):
    rs = np.random.RandomState(seed)
    xs = {"train": rs.randint(0, 256, (n_train, 28, 28)), "t10k": rs.randint(0, 256,
                                                                             (n_test, 28, 28))}
    ys = {"train": rs.randint(0, 10, n_train), "t10k": rs.randint(0, 10, n_test)}
    sfx = ".gz" if gz else ""
    for k in ("train", "t10k"):
        _write(os.path.join(directory, "%s-images-idx3-ubyte%s" % (k, sfx)), _idx(xs[k], 2051),
               gz)
        _write(os.path.join(directory, "%s-labels-idx1-ubyte%s" % (k, sfx)), _idx(ys[k], 2049),
               gz)
    return xs, ys


# ---- the real files ---------------------------------------------------------------------------


@have_shared
def test_load_data_shared_split():
    (xtr, ytr), (xte, yte) = mnist.load_data(SHARED)
    assert xtr.shape == (8000, 28, 28) and xte.shape == (2000, 28, 28)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.uint8
    assert list(ytr[:5]) == [7, 2, 1, 0, 4]
    assert ytr.min() == 0 and ytr.max() == 9 and yte.min() == 0 and yte.max() == 9
    counts = np.bincount(np.concatenate([ytr, yte]), minlength=10)
    assert list(counts) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert xtr.max() == 255 and xtr.min() == 0


@have_shared
def test_read_data_sets_shared():
    d = mnist.read_data_sets(SHARED, one_hot=True)
    assert d.train.num_examples == 8000 and d.validation.num_examples == 0
    assert d.test.num_examples == 2000
    assert d.train.images.shape == (8000, 784) and d.train.images.dtype == np.float32
    assert 0.0 <= d.train.images.min() and d.train.images.max() == 1.0
    assert d.test.labels.shape == (2000, 10)
    np.testing.assert_array_equal(d.test.labels.sum(1), 1)
    d2 = mnist.read_data_sets(SHARED, validation_size=1000, reshape=False, dtype=np.uint8)
    assert d2.train.num_examples == 7000 and d2.validation.num_examples == 1000
    assert d2.train.images.shape == (7000, 28, 28, 1) and d2.train.images.dtype == np.uint8
    assert list(d2.validation.labels[:5]) == [7, 2, 1, 0, 4]
    with pytest.raises(ValueError, match="Validation size should be between 0 and 8000"):
        mnist.read_data_sets(SHARED, validation_size=9000)


@have_shared
def test_raw_files_equal_gz(tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(os.path.join(SHARED, name + ".gz")) as f:
            (tmp_path / name).write_bytes(f.read())
    (a, b), (c, d) = mnist.load_data(str(tmp_path))
    (a2, b2), (c2, d2) = mnist.load_data(SHARED)
    for u, v in ((a, a2), (b, b2), (c, c2), (d, d2)):
        np.testing.assert_array_equal(u, v)
    imgs = mnist.extract_images(str(tmp_path / "t10k-images-idx3-ubyte"))
    assert imgs.shape == (10000, 28, 28, 1)
    oh = mnist.extract_labels(str(tmp_path / "t10k-labels-idx1-ubyte"), one_hot=True)
    assert oh.shape == (10000, 10) and oh[0, 7] == 1


# ---- generated files ---------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_full_set_uses_train_files(tmp_path, gz):
    xs, ys = _small_set(str(tmp_path), gz=gz)
    (xtr, ytr), (xte, yte) = mnist.load_data(str(tmp_path))
    np.testing.assert_array_equal(xtr, xs["train"])
    np.testing.assert_array_equal(ytr, ys["train"])
    np.testing.assert_array_equal(xte, xs["t10k"])
    d = mnist.read_data_sets(str(tmp_path), validation_size=10)
    assert d.train.num_examples == 20 and d.validation.num_examples == 10
    np.testing.assert_allclose(d.validation.images, xs["train"][:10].reshape(10, 784) / 255.0,
                               rtol=1e-6)


def _expect_error(path, match, magic=None):
    with pytest.raises(mnist.MnistDataError, match=match) as e:
        mnist.read_idx(str(path), magic)
    assert str(path) in str(e.value)


def test_corrupt_files(tmp_path):
    good = _idx(np.zeros((10, 28, 28)), 2051)
    p = _write(str(tmp_path / "bad-magic.gz"), good[:3] + b"\x01" + good[4:])
    _expect_error(p, r"invalid magic number 2049 \(0x00000801\), expected 2051", 2051)
    p = _write(str(tmp_path / "junk"), b"\x12\x34\x56\x78" + good[4:], gz=False)
    _expect_error(p, "not an unsigned-byte idx file")
    p = _write(str(tmp_path / "short.gz"), good[:-100])
    _expect_error(p, r"truncated: the header declares shape \[10, 28, 28\] \(7840 data bytes\) "
                  r"but the file holds 7740", 2051)
    p = _write(str(tmp_path / "long"), good + b"\0", gz=False)
    _expect_error(p, "trailing data", 2051)
    gzbytes = gzip.compress(good)
    p = _write(str(tmp_path / "cut.gz"), gzbytes[:len(gzbytes) // 2], gz=False)
    _expect_error(p, "corrupt or truncated gzip stream", 2051)
    p = _write(str(tmp_path / "hdr"), good[:10], gz=False)
    _expect_error(p, "truncated header", 2051)
    p = _write(str(tmp_path / "labels.gz"), _idx([1, 2, 12], 2049))
    with pytest.raises(mnist.MnistDataError, match="label 12 out of range"):
        mnist.extract_labels(p)


def test_mismatched_counts_and_missing(tmp_path):
    _small_set(str(tmp_path))
    _write(str(tmp_path / "t10k-labels-idx1-ubyte.gz"), _idx(np.zeros(5), 2049))
    with pytest.raises(mnist.MnistDataError, match="holds 12 images but .* holds 5 labels"):
        mnist.load_data(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(mnist.MnistDataError, match="MNIST files not found in .*t10k-images"):
        mnist.load_data(str(empty), download_missing=False)


# ---- next_batch -----------------------------------------------------------------------------


def _dataset(n=10, **kw):
    images = np.arange(n, dtype=np.uint8).reshape(n, 1, 1, 1)
    return mnist.DataSet(images, np.arange(n), dtype=np.uint8, **kw)


def test_next_batch_epoch_boundary_unshuffled():
    ds = _dataset()
    got = [ds.next_batch(4, shuffle=False)[1].tolist() for _ in range(4)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1], [2, 3, 4, 5]]
    assert ds.epochs_completed == 1
    x, y = ds.next_batch(4, shuffle=False)
    np.testing.assert_array_equal(x.ravel(), y)   # images stay aligned with labels
    # A batch ending exactly at the end does not complete the epoch (TF1): the next one does.
    assert ds.epochs_completed == 1 and y.tolist() == [6, 7, 8, 9]
    assert ds.next_batch(4, shuffle=False)[1].tolist() == [0, 1, 2, 3]
    assert ds.epochs_completed == 2


def test_next_batch_shuffled_epochs_and_seed():
    ds = _dataset(12, seed=3)
    epoch = np.concatenate([ds.next_batch(4)[1] for _ in range(3)])
    assert sorted(epoch.tolist()) == list(range(12)) and epoch.tolist() != list(range(12))
    assert ds.epochs_completed == 0
    x, y = ds.next_batch(5)
    assert ds.epochs_completed == 1 and len(y) == 5
    np.testing.assert_array_equal(x.ravel(), y)
    again = _dataset(12, seed=3)
    np.testing.assert_array_equal(np.concatenate([again.next_batch(4)[1] for _ in range(3)]),
                                  epoch)


def test_fake_data():
    d = mnist.read_data_sets(None, fake_data=True, one_hot=True)
    x, y = d.train.next_batch(3, fake_data=True)
    assert len(x) == 3 and len(x[0]) == 784 and y[0] == [1] + [0] * 9


# ---- downloads ---------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(_Quiet, directory=str(root)))
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    yield root, "http://127.0.0.1:%d/" % httpd.server_address[1], httpd
    httpd.shutdown()
    httpd.server_close()


def _checksums(directory):
    out = {}
    for name in os.listdir(directory):
        data = open(os.path.join(directory, name), "rb").read()
        out[name] = (len(data), hashlib.sha256(data).hexdigest())
    return out


def test_download_verify_and_cache(server, tmp_path, monkeypatch):
    root, url, httpd = server
    xs, ys = _small_set(str(root))
    sums = _checksums(str(root))
    monkeypatch.setenv("HEADWATER_DATA_DIR", str(tmp_path / "cache"))
    assert mnist.default_data_dir() == str(tmp_path / "cache" / "mnist")
    # The first mirror is missing everything (404): the second one serves the files.
    (xtr, ytr), (xte, yte) = mnist.load_data(source_urls=(url + "missing/", url),
                                             checksums=sums)
    np.testing.assert_array_equal(xtr, xs["train"])
    np.testing.assert_array_equal(yte, ys["t10k"])
    cache = tmp_path / "cache" / "mnist"
    assert sorted(os.listdir(cache)) == sorted(sums)
    # Cached: works with the server gone.
    httpd.shutdown()
    d = mnist.read_data_sets(None, source_url=url, checksums=sums, validation_size=5)
    assert d.train.num_examples == 25


def test_download_bad_checksum_leaves_nothing(server, tmp_path):
    root, url, _ = server
    _small_set(str(root))
    sums = _checksums(str(root))
    name = "t10k-labels-idx1-ubyte.gz"
    dest = tmp_path / "dest"
    bad = dict(sums)
    bad[name] = (sums[name][0], "0" * 64)
    with pytest.raises(mnist.MnistDataError, match="SHA-256 mismatch: expected 0{64}, got "
                       + sums[name][1]):
        mnist.download(name, str(dest), source_urls=url, checksums=bad)
    assert os.listdir(dest) == []
    bad[name] = (sums[name][0] + 1, sums[name][1])
    with pytest.raises(mnist.MnistDataError, match="expected %d bytes, got %d"
                       % (sums[name][0] + 1, sums[name][0])):
        mnist.download(name, str(dest), source_urls=[url], checksums=bad)
    assert os.listdir(dest) == []
    with pytest.raises(mnist.MnistDataError, match="no checksum known"):
        mnist.download("other.gz", str(dest), source_urls=url, checksums={})
    p = mnist.download(name, str(dest), source_urls=url, checksums=sums)
    assert os.listdir(dest) == [name] and mnist.read_idx(p, 2049).shape == (12,)


@have_shared
def test_download_real_test_files(server, tmp_path, monkeypatch):
    root, url, _ = server
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(SHARED, name), root / name)
    # The shared archives hold the canonical data but were re-compressed: the published
    # checksums of the canonical archives reject them, and nothing is cached.
    dest = tmp_path / "d"
    with pytest.raises(mnist.MnistDataError, match="SHA-256 mismatch: expected "
                       + mnist.CHECKSUMS["t10k-labels-idx1-ubyte.gz"][1]):
        mnist.download("t10k-labels-idx1-ubyte.gz", str(dest), source_urls=url)
    assert os.listdir(dest) == []
    sums = _checksums(str(root))
    for name in sums:
        mnist.download(name, str(dest), source_urls=url, checksums=sums)
    (xtr, ytr), _ = mnist.load_data(str(dest))
    assert xtr.shape == (8000, 28, 28) and list(ytr[:5]) == [7, 2, 1, 0, 4]
