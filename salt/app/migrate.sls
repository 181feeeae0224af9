{%- from "app/map.jinja" import app with context %}
{#- The app's migration command runs as the service user with the service's environment file
    (the database password never appears in a command line). #}
{%- set with_env = 'set -a && . ' ~ app.config_dir ~ '/env && set +a && cd ' ~ app.code_dir
                    ~ ' && PATH=' ~ app.venv_dir ~ '/bin:$PATH' %}
{%- set as_user = 'runuser -u ' ~ app.user ~ ' -- sh -c' %}

include:
  - app.venv
  - app.config

{%- if app.migrations.command %}

# Before the new code serves: the service reloads only after this. It runs only while the
# database lags behind the code (check), so once per deploy; hosts that deploy together are
# serialised by the migration tool's own lock.
app-migrations:
  cmd.run:
    - name: {{ as_user }} '{{ with_env }} && exec {{ app.migrations.command }}'
    - unless: {{ as_user }} '{{ with_env }} && {{ app.migrations.check }}'
    - require:
      - cmd: app-requirements
      - file: app-env-file
      - {{ 'git' if app.git.repo else 'file' }}: app-code
{%- endif %}
