"""Declarative schemas of the files people edit: settings, the seed file and the rule files.

``python -m bot.schemas write`` writes them as JSON Schemas under ``schemas/`` so
editors check the YAML files as staff type; ``settings-table`` prints the
README's settings table.
"""
