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
    # Only a dry run reaches this with no venv yet (a real run has just made it): pip has no
    # interpreter to ask then, and the state below says what would happen instead.
    - onlyif: test -x {{ app.venv_dir }}/bin/pip
    - require:
      - cmd: app-venv
{%- if opts.get('test') and not salt['file.file_exists'](app.venv_dir ~ '/bin/pip') %}

app-pip-packages-pending:
  test.configurable_test_state:
    # In a dry run Salt reports a pending change as result None.
    - changes: True
    - result: True
    - comment: >-
        The venv {{ app.venv_dir }} does not exist yet; these pinned packages would be
        installed into it: {{ app.pip_packages | join(', ') }}
{%- endif %}
