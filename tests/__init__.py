"""Tests of the template: its extensions, its questions and the services it generates."""
