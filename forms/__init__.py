"""WTForms built from definitions, plus the static forms' shared helpers."""
