"""The exam authoring kit: scaffold an exam (scaffold.py), generate its student template (template.py),
pack what students get (kit.py)."""
