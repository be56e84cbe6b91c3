"""MNIST: the idx-format reader, a verified download cache, and TF1's `read_data_sets`.

    from headwater.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data("../shared/data/mnist")
    data = mnist.read_data_sets("../shared/data/mnist", one_hot=True)
    batch_xs, batch_ys = data.train.next_batch(100)

Files: the four standard idx files ("train-images-idx3-ubyte" etc.), gzipped or not (detected
from the content, not the name). With no directory, files are looked up in the cache
`$HEADWATER_DATA_DIR/mnist` (default `~/.cache/headwater/mnist`) and downloaded from the
canonical mirrors when missing: each download goes to a temporary file, its size and SHA-256
are checked against the published values, and only then is it renamed into place, so a bad or
interrupted download is never cached.

Test-set-only directories: when a directory holds only the two t10k files (as the shared data
folder does), the first 8,000 test images serve as the training set and the last 2,000 as the
test set (`TEST_ONLY_SPLIT`); `read_data_sets` then defaults to no validation set.
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zlib

import numpy as np

__all__ = ["DEFAULT_SOURCE_URL", "DataSet", "Datasets", "MIRRORS", "MnistDataError",
           "TEST_ONLY_SPLIT", "default_data_dir", "download", "extract_images",
           "extract_labels", "load_data", "read_data_sets", "read_idx"]

DEFAULT_SOURCE_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
MIRRORS = (DEFAULT_SOURCE_URL, "https://ossci-datasets.s3.amazonaws.com/mnist/")

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

# Published size and SHA-256 of each canonical .gz archive.
CHECKSUMS = {
    TRAIN_IMAGES + ".gz": (9912422,
                           "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    TRAIN_LABELS + ".gz": (28881,
                           "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    TEST_IMAGES + ".gz": (1648877,
                          "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    TEST_LABELS + ".gz": (4542,
                          "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}

TEST_ONLY_SPLIT = 8000
_IMAGES_MAGIC = 2051
_LABELS_MAGIC = 2049


class MnistDataError(ValueError):
    """A missing, corrupt or truncated MNIST file, or a failed/unverified download."""


def default_data_dir():
    """`$HEADWATER_DATA_DIR/mnist`, or `~/.cache/headwater/mnist`."""
    root = os.environ.get("HEADWATER_DATA_DIR")
    if root:
        return os.path.join(os.path.expanduser(root), "mnist")
    return os.path.join(os.path.expanduser("~"), ".cache", "headwater", "mnist")


# ---- idx reading -------------------------------------------------------------------------------


def _read_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as e:
            raise MnistDataError("%s: corrupt or truncated gzip stream (%s)" % (path, e)) \
                from None
    return raw


def read_idx(path, expected_magic=None):
    """Read an idx file (gzipped or raw) into a uint8 numpy array.

    Args:
      path: the file.
      expected_magic: 2051 (images, [n, rows, cols]) or 2049 (labels, [n]); None accepts
        any unsigned-byte idx file.
    Returns:
      A uint8 ndarray of the shape the header declares.
    Raises:
      MnistDataError: bad magic number, or fewer/more data bytes than the header declares.
    """
    data = _read_bytes(path)
    if len(data) < 4:
        raise MnistDataError("%s: truncated header (%d bytes)" % (path, len(data)))
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise MnistDataError("%s: invalid magic number %d (0x%08x), expected %d for an MNIST "
                             "%s file" % (path, magic, magic, expected_magic,
                                          "image" if expected_magic == _IMAGES_MAGIC
                                          else "label"))
    if magic >> 8 != 0x08:
        raise MnistDataError("%s: invalid magic number %d (0x%08x): not an unsigned-byte idx "
                             "file" % (path, magic, magic))
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistDataError("%s: truncated header: expected %d bytes, found %d"
                             % (path, header, len(data)))
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 1
    actual = len(data) - header
    if actual != expected:
        raise MnistDataError("%s: %s: the header declares shape %s (%d data bytes) but the "
                             "file holds %d" % (path, "truncated" if actual < expected else
                                                "trailing data", list(shape), expected,
                                                actual))
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def extract_images(path):
    """[n, rows, cols, 1] uint8 images from an idx3 file (TF1's `extract_images`)."""
    arr = read_idx(path, _IMAGES_MAGIC)
    return arr.reshape(arr.shape + (1,))


def extract_labels(path, one_hot=False, num_classes=10):
    """[n] uint8 labels (or [n, num_classes] float64 one-hot) from an idx1 file."""
    labels = read_idx(path, _LABELS_MAGIC)
    if labels.size and labels.max() >= num_classes:
        raise MnistDataError("%s: label %d out of range [0, %d)" % (path, labels.max(),
                                                                    num_classes))
    return _one_hot(labels, num_classes) if one_hot else labels


def _one_hot(labels, num_classes=10):
    out = np.zeros((labels.shape[0], num_classes))
    out[np.arange(labels.shape[0]), labels] = 1
    return out


# ---- download ----------------------------------------------------------------------------------


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(filename, directory, source_urls=MIRRORS, checksums=None, timeout=60):
    """Download `filename` into `directory` unless it is already there; verify it.

    The file is fetched to a temporary file in `directory`, checked against the expected size
    and SHA-256 (`checksums[filename] = (size or None, sha256)`, default the published MNIST
    values), then renamed into place. Mirrors are tried in order.

    Returns:
      The path of the verified file.
    Raises:
      MnistDataError: no mirror delivered a file with the right checksum (the message lists
        each mirror's failure); nothing is left in `directory`.
    """
    path = os.path.join(directory, filename)
    if os.path.exists(path):
        return path
    table = CHECKSUMS if checksums is None else checksums
    if filename not in table:
        raise MnistDataError("no checksum known for %r: refusing to download it unverified"
                             % filename)
    size, digest = table[filename]
    os.makedirs(directory, exist_ok=True)
    if isinstance(source_urls, str):
        source_urls = (source_urls,)
    failures = []
    for base in source_urls:
        url = base + filename if base.endswith("/") else base + "/" + filename
        fd, tmp = tempfile.mkstemp(prefix="." + filename + ".", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                shutil.copyfileobj(r, out)
            got_size = os.path.getsize(tmp)
            if size is not None and got_size != size:
                failures.append("%s: expected %d bytes, got %d" % (url, size, got_size))
                continue
            got = _sha256(tmp)
            if got != digest:
                failures.append("%s: SHA-256 mismatch: expected %s, got %s" % (url, digest,
                                                                              got))
                continue
            os.replace(tmp, path)
            tmp = None
            return path
        except (urllib.error.URLError, OSError, ValueError) as e:
            failures.append("%s: %s" % (url, e))
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)
    raise MnistDataError("could not download %s:\n  %s" % (filename, "\n  ".join(failures)))


# ---- locating files ------------------------------------------------------------------------------


def _find(directory, base):
    for name in (base + ".gz", base):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    return None


def _locate(data_dir, source_urls, checksums, download_missing):
    """Paths of the four files (train ones None when only the test set exists)."""
    cache = data_dir is None
    directory = default_data_dir() if cache else data_dir
    found = {b: _find(directory, b) for b in (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES,
                                              TEST_LABELS)}
    have_test = found[TEST_IMAGES] and found[TEST_LABELS]
    have_train = found[TRAIN_IMAGES] and found[TRAIN_LABELS]
    if have_test and (have_train or not cache):
        # A user's directory with only the test files: use the documented 8k/2k split.
        return found
    if not download_missing:
        missing = [b for b, p in found.items() if p is None]
        raise MnistDataError("MNIST files not found in %s: %s" % (directory,
                                                                   ", ".join(missing)))
    for b, p in found.items():
        if p is None:
            found[b] = download(b + ".gz", directory, source_urls, checksums)
    return found


def _load_arrays(data_dir, source_urls, checksums, download_missing):
    paths = _locate(data_dir, source_urls, checksums, download_missing)
    x_test = read_idx(paths[TEST_IMAGES], _IMAGES_MAGIC)
    y_test = extract_labels(paths[TEST_LABELS])
    _check_count(paths[TEST_IMAGES], x_test, paths[TEST_LABELS], y_test)
    if paths[TRAIN_IMAGES] and paths[TRAIN_LABELS]:
        x_train = read_idx(paths[TRAIN_IMAGES], _IMAGES_MAGIC)
        y_train = extract_labels(paths[TRAIN_LABELS])
        _check_count(paths[TRAIN_IMAGES], x_train, paths[TRAIN_LABELS], y_train)
        return (x_train, y_train), (x_test, y_test), False
    n = min(TEST_ONLY_SPLIT, len(x_test))
    return (x_test[:n], y_test[:n]), (x_test[n:], y_test[n:]), True


def _check_count(ipath, images, lpath, labels):
    if images.shape[0] != labels.shape[0]:
        raise MnistDataError("%s holds %d images but %s holds %d labels"
                             % (ipath, images.shape[0], lpath, labels.shape[0]))


def load_data(data_dir=None, source_urls=MIRRORS, checksums=None, download_missing=True):
    """MNIST as numpy arrays (Keras-style).

    Args:
      data_dir: directory holding the idx files; None uses (and fills) the download cache.
      source_urls: mirror base URLs tried in order.
      checksums: override of the expected {filename: (size, sha256)} (for tests/mirrors).
      download_missing: download missing files (into the cache, or `data_dir` if it has none
        of the files).
    Returns:
      ((x_train, y_train), (x_test, y_test)): uint8 images [n, 28, 28], uint8 labels [n].
      A directory with only the t10k files gives the first 8,000 test images as the training
      set and the last 2,000 as the test set.
    """
    train, test, _ = _load_arrays(data_dir, source_urls, checksums, download_missing)
    return train, test


# ---- TF1 read_data_sets --------------------------------------------------------------------


class DataSet:
    """Images and labels with TF1's epoch-aware `next_batch`.

    Args:
      images: uint8 [n, rows, cols, 1] (or [n, rows, cols]).
      labels: [n] labels or [n, classes] one-hot.
      dtype: float32 rescales the pixels to [0, 1]; uint8 keeps them.
      reshape: flatten images to [n, rows * cols].
      seed: seeds this data set's shuffling (its own RandomState, not numpy's global one).
    """

    def __init__(self, images, labels, fake_data=False, one_hot=False, dtype=np.float32,
                 reshape=True, seed=None):
        dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
        if dtype not in (np.dtype(np.uint8), np.dtype(np.float32)):
            raise TypeError("Invalid image dtype %r, expected uint8 or float32" % dtype)
        self._rng = np.random.RandomState(seed)
        self.one_hot = one_hot
        if fake_data:
            self._num_examples = 10000
        else:
            if images.shape[0] != labels.shape[0]:
                raise ValueError("images.shape: %s labels.shape: %s" % (images.shape,
                                                                        labels.shape))
            self._num_examples = images.shape[0]
            if reshape:
                images = images.reshape(images.shape[0], int(np.prod(images.shape[1:])))
            if dtype == np.float32:
                images = images.astype(np.float32) * np.float32(1.0 / 255.0)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self):
        return self._images

    @property
    def labels(self):
        return self._labels

    @property
    def num_examples(self):
        return self._num_examples

    @property
    def epochs_completed(self):
        return self._epochs_completed

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """The next `batch_size` examples.

        The first call shuffles (if `shuffle`); a batch that crosses the end of an epoch is
        the epoch's remaining examples followed by the start of the next (reshuffled) epoch,
        and `epochs_completed` counts the boundary, as in TF1.
        """
        if fake_data:
            fake_image = [1] * 784
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return ([fake_image for _ in range(batch_size)],
                    [fake_label for _ in range(batch_size)])
        start = self._index_in_epoch
        n = self._num_examples
        if self._epochs_completed == 0 and start == 0 and shuffle:
            perm = self._rng.permutation(n)
            self._images = self._images[perm]
            self._labels = self._labels[perm]
        if start + batch_size > n:
            self._epochs_completed += 1
            rest = n - start
            images_rest = self._images[start:n]
            labels_rest = self._labels[start:n]
            if shuffle:
                perm = self._rng.permutation(n)
                self._images = self._images[perm]
                self._labels = self._labels[perm]
            self._index_in_epoch = batch_size - rest
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[:end]), axis=0))
        self._index_in_epoch += batch_size
        end = self._index_in_epoch
        return self._images[start:end], self._labels[start:end]


Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])


def read_data_sets(train_dir=None, fake_data=False, one_hot=False, dtype=np.float32,
                   reshape=True, validation_size=None, seed=None, source_url=MIRRORS,
                   checksums=None):
    """TF1's `input_data.read_data_sets`: train/validation/test `DataSet`s.

    Args:
      train_dir: directory of the idx files (None: the download cache).
      fake_data: return data sets whose `next_batch` yields constant fake examples.
      one_hot: labels as [n, 10] float64 one-hot rows (else uint8 [n]).
      dtype: float32 (pixels scaled to [0, 1]) or uint8.
      reshape: images as [n, 784] (else [n, 28, 28, 1]).
      validation_size: examples split off the front of the training set; default 5000, or 0
        when only the test files exist (the 8,000-image training split is small).
      seed: shuffling seed of the data sets.
      source_url: a mirror base URL (or a sequence of them) for missing files.
      checksums: override of the expected {filename: (size, sha256)}.
    Returns:
      `Datasets(train, validation, test)`.
    """
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
        return Datasets(train=fake(), validation=fake(), test=fake())
    (xtr, ytr), (xte, yte), test_only = _load_arrays(train_dir, source_url, checksums, True)
    xtr = xtr.reshape(xtr.shape + (1,))
    xte = xte.reshape(xte.shape + (1,))
    if one_hot:
        ytr, yte = _one_hot(ytr), _one_hot(yte)
    if validation_size is None:
        validation_size = 0 if test_only else 5000
    if not 0 <= validation_size <= len(xtr):
        raise ValueError("Validation size should be between 0 and %d. Received: %d."
                         % (len(xtr), validation_size))
    kw = dict(dtype=dtype, reshape=reshape, seed=seed, one_hot=one_hot)
    validation = DataSet(xtr[:validation_size], ytr[:validation_size], **kw)
    train = DataSet(xtr[validation_size:], ytr[validation_size:], **kw)
    test = DataSet(xte, yte, **kw)
    return Datasets(train=train, validation=validation, test=test)
