{%- from "postgres/map.jinja" import postgres with context %}
{%- set backup = postgres.backup %}
{%- if backup.enabled %}
{%-   if not backup.recipients %}
{{-     raise('postgres:backup:recipients is empty: backups are enabled and need at least one '
              'age public key to encrypt to (or set postgres:backup:enabled: false)') }}
{%-   endif %}

include:
  - postgres.app

postgres-backup-package:
  pkg.installed:
    - name: {{ backup.package }}

postgres-backup-dir:
  file.directory:
    - name: {{ backup.dir }}
    - user: postgres
    - group: postgres
    - mode: '0700'
    - require:
      - pkg: postgres-package

# Dumps, encrypts, and prunes; restores with the matching private key. Both scripts are
# small enough to read before trusting them with the data.
postgres-backup-script:
  file.managed:
    - name: /usr/local/sbin/{{ postgres.app.database }}-db-backup
    - source: salt://postgres/files/db-backup.sh.jinja
    - template: jinja
    - mode: '0755'
    - context:
        database: {{ postgres.app.database | tojson }}
        backup: {{ backup | tojson }}

postgres-restore-script:
  file.managed:
    - name: /usr/local/sbin/{{ postgres.app.database }}-db-restore
    - source: salt://postgres/files/db-restore.sh.jinja
    - template: jinja
    - mode: '0755'
    - context:
        database: {{ postgres.app.database | tojson }}

postgres-backup-units:
  file.managed:
    - names:
      - /etc/systemd/system/{{ postgres.app.database }}-db-backup.service:
        - source: salt://postgres/files/db-backup.service.jinja
      - /etc/systemd/system/{{ postgres.app.database }}-db-backup.timer:
        - source: salt://postgres/files/db-backup.timer.jinja
    - template: jinja
    - mode: '0644'
    - context:
        database: {{ postgres.app.database | tojson }}
        backup: {{ backup | tojson }}
    - require:
      - file: postgres-backup-script
      - file: postgres-backup-dir
      - pkg: postgres-backup-package

# Salt reloads systemd itself when the timer's own unit changed, not when only the service did.
postgres-backup-daemon-reload:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: postgres-backup-units

postgres-backup-timer:
  service.running:
    - name: {{ postgres.app.database }}-db-backup.timer
    - require:
      - postgres_database: postgres-app-database
      - module: postgres-backup-daemon-reload
    - watch:
      - file: postgres-backup-units

postgres-backup-timer-enabled:
  service.enabled:
    - name: {{ postgres.app.database }}-db-backup.timer
    - require:
      - file: postgres-backup-units
{%- else %}

postgres-backup-timer-absent:
  service.dead:
    - name: {{ postgres.app.database }}-db-backup.timer
    - enable: False
{%- endif %}
