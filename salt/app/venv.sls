{%- from "app/map.jinja" import app with context %}
{%- set pip = app.venv_dir ~ '/bin/pip --disable-pip-version-check' %}
{%- set requirements = app.code_dir ~ '/' ~ app.requirements %}

include:
  - app.user
  - app.package
  - app.code

app-venv:
  cmd.run:
    - name: {{ app.python }} -m venv {{ app.venv_dir }}
    - creates: {{ app.venv_dir }}/bin/python
    - require:
      - pkg: app-os-packages
      - file: app-home

# The app's own requirements file, from its code. pip's dry run tells whether anything would be
# installed: nothing is run (nor reported, test=True included) while the venv already has it.
app-requirements:
  cmd.run:
    - name: {{ pip }} install --quiet --requirement {{ requirements }}
    - unless: >-
        {{ pip }} install --quiet --dry-run --report - --requirement {{ requirements }}
        | {{ app.venv_dir }}/bin/python -c
        'import json, sys; sys.exit(1 if json.load(sys.stdin)["install"] else 0)'
    - require:
      - cmd: app-venv
      - {{ 'git' if app.git.repo else 'file' }}: app-code
