"""DynamoDB through pynamodb: the tables (`models`, matching infra/template.yaml) and the repositories that map
them to the domain's values. The only package that imports pynamodb (tests/unit/test_layers.py checks this).

May import: pynamodb, `shared.domain`, `shared.settings`.
"""
