"""Typed access to the keys of a parsed exam.toml, with messages that name the key."""

from __future__ import annotations

from pathlib import Path

_MISSING = object()  # marks a required key in _Spec.get


class ExamError(ValueError):
    """The exam folder or its exam.toml is invalid; the message names the key."""


KNOWN_KEYS = {
    "exam": {"title", "task", "mode", "template", "predict", "preprocess", "backends"},
    "metric": {"name", "direction", "display"},
    "data": {"public", "test_inputs", "test_labels", "validation_inputs", "validation_labels",
             "recipe", "hide", "rounds", "test_rounds"},
    "predictions": {"kind", "num_classes", "shape"},
    "limits": {"time_seconds", "cell_seconds", "memory_mb", "max_processes", "max_output_mb",
               "max_files_mb", "max_parameters", "forbidden_imports", "forbid_pretrained", "model_file",
               "max_model_mb", "max_notebook_mb", "extra_files"},
    "grading": {"objective_weight", "quality_weight", "scheme", "baseline", "target", "bonus", "scale",
                "tie_tolerance", "parameter_bonus"},
}


class _Spec:
    """Typed access to dotted keys of the parsed TOML with messages that name the key."""

    def __init__(self, raw: dict, path: Path):
        self.raw, self.path = raw, path

    def get(self, key: str, kind, default=_MISSING):
        section, name = key.split(".")
        table = self.raw.get(section, {})
        if not isinstance(table, dict):
            raise ExamError(f"[{section}]: must be a table")
        if name not in table:
            if default is _MISSING:
                raise ExamError(f"{key}: missing (required in {self.path.name})")
            return default
        value = table[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:  # TOML true is not a number here
            raise ExamError(f"{key}: expected {_names(kinds)}, got a boolean")
        if not isinstance(value, kinds):
            raise ExamError(f"{key}: expected {_names(kinds)}, got {type(value).__name__} {value!r}")
        return value

    def positive(self, key: str, default):
        value = self.get(key, (int, float), default)
        if value <= 0:
            raise ExamError(f"{key}: must be positive, got {value}")
        return value

    @staticmethod
    def choice(key: str, value, allowed):
        if value not in allowed:
            raise ExamError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def unknown_keys(self) -> list[str]:
        unknown = []
        for section, table in self.raw.items():
            if section in ("final", "deadline"):  # checked by their own parsers
                continue
            if section not in KNOWN_KEYS:
                unknown.append(f"[{section}]")
            elif isinstance(table, dict):
                unknown += [f"{section}.{k}" for k in table if k not in KNOWN_KEYS[section]]
        return unknown


def _names(kinds) -> str:
    return " or ".join({"int": "an integer", "float": "a number", "str": "a string", "list": "a list",
                        "bool": "true/false"}.get(k.__name__, k.__name__) for k in kinds)
