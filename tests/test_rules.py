"""Static exam rules: forbidden imports and pretrained weights."""

import nbformat

from grader.rules import forbidden_imports, pretrained_weights


def nb(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_forbidden_imports_in_every_form():
    found = forbidden_imports(nb("import numpy as np", "import requests.adapters",
                                 "from socket import create_connection",
                                 "import importlib\nm = importlib.import_module('requests')",
                                 "!pip install requests\nimport os"), ("requests", "socket"))
    assert len(found) == 3  # '!pip install requests' installs, it does not import
    assert found[0] == "cell 2 imports requests.adapters (forbidden by the exam)"
    assert forbidden_imports(nb("import numpy", "x = 'import requests'"), ("requests",)) == []


def test_pretrained_weights():
    found = pretrained_weights(nb(
        "base = keras.applications.MobileNetV2(weights='imagenet', include_top=False)",
        "m = keras.applications.ResNet50(weights=None)",
        "path = keras.utils.get_file('w.h5', 'https://example.org/w.h5')",
        "import tensorflow_hub as hub",
        "model = keras.models.load_model('model.keras')"))
    assert [f.split()[1] for f in found] == ["1", "3", "4"]


def test_syntax_errors_do_not_crash_the_checks():
    assert forbidden_imports(nb("def broken(:", "import socket"), ("socket",)) == [
        "cell 2 imports socket (forbidden by the exam)"]
