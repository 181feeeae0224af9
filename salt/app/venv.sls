{%- from "app/map.jinja" import app with context %}

include:
  - app.user
  - app.package

app-venv:
  cmd.run:
    - name: {{ app.python }} -m venv {{ app.venv_dir }}
    - creates: {{ app.venv_dir }}/bin/python
    - require:
      - pkg: app-os-packages
      - file: app-home

# Exact pins: pip.installed compares each pin with "pip list" in the venv and installs only
# what differs, so a converged venv reports no change.
app-pip-packages:
  pip.installed:
    - pkgs: {{ app.pip_packages | tojson }}
    - bin_env: {{ app.venv_dir }}
    - require:
      - cmd: app-venv
