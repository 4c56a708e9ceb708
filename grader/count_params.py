"""Count the parameters of a saved Keras model; run inside the sandbox by grader.rules.

    python -m grader.count_params model.keras   ->   {"parameters": 81234}

``safe_mode=True`` refuses to deserialize code (Lambda layers) from the file.
"""

import json
import os
import sys


def main(path: str) -> int:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        print(json.dumps({"parameters": int(model.count_params())}))
    except Exception as exc:  # report any loading failure as data, not a traceback
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
