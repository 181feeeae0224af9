{%- from "app/map.jinja" import app with context %}
{%- from "common/peers.jinja" import peers with context %}
{#- Order after the database and cache only where they run on this host. #}
{%- set local_units = [] %}
{%- if peers.roles.db.local %}{% do local_units.append('postgresql.service') %}{% endif %}
{%- if peers.roles.cache.local %}{% do local_units.append('redis-server.service') %}{% endif %}

include:
  - app.user
  - app.code
  - app.venv
  - app.config

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

# Salt's systemd service module runs "systemctl daemon-reload" itself before start/restart
# when the unit file is new or changed on disk.
app-service:
  service.running:
    - name: {{ app.systemd.unit }}
    - require:
      - user: app-user
      - pip: app-pip-packages
    - watch:
      - file: app-systemd-unit
      - file: app-env-file
      - file: app-gunicorn-config
      - file: app-code
      - pip: app-pip-packages

# Enabled by a state of its own: a service.running that also enables reports a change, and Salt
# then skips the restart or reload that a watched file asked for.
app-service-enabled:
  service.enabled:
    - name: {{ app.systemd.unit }}
    - require:
      - file: app-systemd-unit
