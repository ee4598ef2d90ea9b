"""Jinja extensions of the template: naming filters, the field-spec parser, render-time ruff.

Copier loads :mod:`extensions.copier_extension` by file path (copier-template-extensions);
the modules here are plain Python and are unit-tested on their own.
"""
