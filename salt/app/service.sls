{%- from "app/map.jinja" import app with context %}
{%- from "common/peers.jinja" import peers with context %}
{#- Order after the database and cache only where they run on this host. #}
{%- set local_units = [] %}
{%- if peers.roles.db.local %}{% do local_units.append('postgresql.service') %}{% endif %}
{%- if peers.roles.cache.local %}{% do local_units.append('redis-server.service') %}{% endif %}

{%- set code_kind = 'git' if app.git.repo else 'file' %}

include:
  - app.user
  - app.code
  - app.venv
  - app.config
  - app.migrate

app-systemd-unit:
  file.managed:
    - name: /etc/systemd/system/{{ app.systemd.unit }}
    - source: salt://app/files/acoustic-lab.service.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0644'
    - context:
        app: {{ app | tojson }}
        local_units: {{ local_units | tojson }}

# systemd reads a changed unit only after a daemon-reload.
app-systemd-daemon-reload:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: app-systemd-unit

# A new unit or environment reaches gunicorn only through a restart (a reload keeps the master
# process, and with it the old environment). Everything else is a graceful reload below.
app-service-restart:
  module.run:
    - service.restart:
      - name: {{ app.systemd.unit }}
    - onchanges:
      - file: app-systemd-unit
      - file: app-env-file
    - require:
      - module: app-systemd-daemon-reload
      - cmd: app-requirements
{%- if app.migrations.command %}
      - cmd: app-migrations
{%- endif %}

# New code, requirements or gunicorn settings: a reload (HUP) starts workers on them and retires
# the old ones once their requests are done, so no request fails during a deploy. The
# migrations come first.
app-service:
  service.running:
    - name: {{ app.systemd.unit }}
    - reload: True
    - require:
      - user: app-user
      - module: app-service-restart
    - watch:
      - {{ code_kind }}: app-code
      - cmd: app-requirements
      - file: app-gunicorn-config
{%- if app.migrations.command %}
      - cmd: app-migrations
{%- endif %}

# Enabled by a state of its own: a service.running that also enables reports a change, and Salt
# then skips the restart or reload that a watched file asked for.
app-service-enabled:
  service.enabled:
    - name: {{ app.systemd.unit }}
    - require:
      - file: app-systemd-unit
