"""Static exam rules: forbidden imports and pretrained weights (parameter budgets: test_model_params)."""

import time
from types import SimpleNamespace

import nbformat

from grader.exam import Limits
from grader.rules import MAX_CELL_CHARS, forbidden_imports, pretrained_weights, static_violations


def nb(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_forbidden_imports_in_every_form():
    found = forbidden_imports(nb("import numpy as np", "import requests.adapters",
                                 "from socket import create_connection",
                                 "import importlib\nm = importlib.import_module('requests')",
                                 "!pip install requests\nimport os"), ("requests", "socket"))
    assert len(found) == 3  # '!pip install requests' installs, it does not import
    assert found == [
        "cell 2, line 1: import requests.adapters — imports requests.adapters, which this exam forbids",
        "cell 3, line 1: from socket import create_connection — imports socket, which this exam forbids",
        "cell 4, line 2: m = importlib.import_module('requests') — imports requests, which this exam forbids"]
    assert forbidden_imports(nb("import numpy", "x = 'import requests'"), ("requests",)) == []


def test_line_numbers_count_magic_lines_and_blank_lines():
    found = forbidden_imports(nb("%matplotlib inline\n\n\n!ls\nimport socket  # comment"), ("socket",))
    assert found == ["cell 1, line 5: import socket  # comment — imports socket, which this exam forbids"]


def test_pretrained_weights():
    found = pretrained_weights(nb(
        "base = keras.applications.MobileNetV2(weights='imagenet', include_top=False)",
        "m = keras.applications.ResNet50(weights=None)",
        "path = keras.utils.get_file('w.h5', 'https://example.org/w.h5')",
        "import tensorflow_hub as hub",
        "model = keras.models.load_model('model.keras')"))
    assert [f.split(",")[0] for f in found] == ["cell 1", "cell 3", "cell 4"]
    assert found[1] == ("cell 3, line 1: path = keras.utils.get_file('w.h5', 'https://example.org/w.h5') — "
                        "get_file(...) downloads pretrained files, which this exam forbids")
    assert found[2] == ("cell 4, line 1: import tensorflow_hub as hub — uses tensorflow_hub, a hub of "
                        "pretrained models, which this exam forbids")


def test_weights_keywords_that_download_nothing_are_fair():
    assert pretrained_weights(nb(
        "from sklearn.neighbors import KNeighborsClassifier\n"
        "knn = KNeighborsClassifier(n_neighbors=5, weights='distance')\n"
        "knn2 = KNeighborsClassifier(weights=\"uniform\")",
        "from sklearn.ensemble import VotingClassifier\nv = VotingClassifier(estimators, weights=[1, 2])",
        "layer = keras.layers.Dense(4, weights=[kernel, bias])\nemb = Embedding(10, 4, weights=matrix)",
        "np.average(x, weights=w)\nscores = rank(weights='balanced')",
        "m = keras.applications.ResNet50(weights=None, include_top=False)",
        "m = keras.applications.EfficientNetB0(include_top=False, weights='my_weights.weights.h5')",
        "x = keras.applications.resnet50.preprocess_input(x)",
        "def VGG16(input_shape):\n    return keras.Sequential([keras.Input(input_shape)])\nnet = VGG16((32, 32, 3))",
    )) == []


def test_pretrained_imagenet_weights_are_flagged_with_the_line():
    found = pretrained_weights(nb(
        "import keras\nbase = keras.applications.ResNet50(weights=\"imagenet\")",
        "from keras.applications import MobileNetV2\nbase = MobileNetV2(input_shape=(96, 96, 3), "
        "include_top=False, weights=\"imagenet\")",
        "import tensorflow as tf\nvgg = tf.keras.applications.VGG16(weights='imagenet')",
    ))
    assert found == [
        'cell 1, line 2: base = keras.applications.ResNet50(weights="imagenet") — loads pretrained ImageNet '
        "weights, which this exam forbids",
        'cell 2, line 2: base = MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights="imagenet") — '
        "loads pretrained ImageNet weights, which this exam forbids",
        "cell 3, line 2: vgg = tf.keras.applications.VGG16(weights='imagenet') — loads pretrained ImageNet "
        "weights, which this exam forbids"]


def test_other_pretrained_downloads_are_flagged():
    found = pretrained_weights(nb(
        "from tensorflow.keras import applications as apps\nnet = apps.DenseNet121(weights='imagenet21k')",
        "import keras.applications.efficientnet_v2 as ev2\nnet = ev2.EfficientNetV2S(weights='some-named-set')",
        "net = keras.applications.MobileNetV3Small(input_shape=(64, 64, 3), include_top=False)",
        "from keras.applications import *\nnet = Xception(include_top=False)",
        "Net = keras.applications.ResNet50\nnet = Net(include_top=False, pooling='avg')",
        "helper(weights='imagenet')",
        "net = keras.applications.ResNet50(False, 'imagenet')",
        "kwargs = dict(weights=None)\nnet = keras.applications.ResNet50(**kwargs)",  # not known: not flagged
    ))
    assert [f.split(" — ")[0] for f in found] == [
        "cell 1, line 2: net = apps.DenseNet121(weights='imagenet21k')",
        "cell 2, line 2: net = ev2.EfficientNetV2S(weights='some-named-set')",
        "cell 3, line 1: net = keras.applications.MobileNetV3Small(input_shape=(64, 64, 3), include_top=False)",
        "cell 4, line 2: net = Xception(include_top=False)",
        "cell 5, line 2: net = Net(include_top=False, pooling='avg')",
        "cell 6, line 1: helper(weights='imagenet')",
        "cell 7, line 1: net = keras.applications.ResNet50(False, 'imagenet')"]
    assert found[1].endswith("loads the pretrained weights 'some-named-set', which this exam forbids")
    assert "the default of MobileNetV3Small: pass weights=None" in found[2]


def test_long_lines_are_quoted_truncated():
    line = "base = keras.applications.ResNet50(weights='imagenet', " + "include_top=False, " * 20 + ")"
    (found,) = pretrained_weights(nb(line))
    quoted = found.split(": ", 1)[1].split(" — ")[0]
    assert len(quoted) == 100 and quoted.endswith("…") and line.startswith(quoted[:-1])


def test_syntax_errors_do_not_crash_the_checks():
    assert forbidden_imports(nb("def broken(:", "import socket"), ("socket",)) == [
        "cell 2, line 1: import socket — imports socket, which this exam forbids"]
    assert pretrained_weights(nb("x = (" * 10_000, "y = 1\0")) == []  # too deep; a null byte


def test_hostile_cells_are_checked_fast():
    start = time.perf_counter()
    blank = "\n" * 40_000 + "import socket"
    assert len(forbidden_imports(nb(blank), ("socket",))) == 1
    assert forbidden_imports(nb(" \n" * 40_000 + "x"), ("socket",)) == []
    assert pretrained_weights(nb("\t\n" * 40_000)) == []
    assert time.perf_counter() - start < 1


def test_a_cell_too_large_to_check_is_reported_not_parsed():
    huge = "import socket\n" + "x = 1\n" * (MAX_CELL_CHARS // 6)
    exam = SimpleNamespace(limits=Limits(forbidden_imports=("socket",), forbid_pretrained=True))
    start = time.perf_counter()
    found = static_violations(nb("import numpy", huge), exam)
    assert time.perf_counter() - start < 1
    assert found == [f"cell 2 holds {len(huge):,} characters of code, more than the 1,000,000 the exam rules "
                     "check in a cell: keep data in files, not in code"]
    assert static_violations(nb(huge), SimpleNamespace(limits=Limits())) == []
