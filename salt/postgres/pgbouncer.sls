{%- from "postgres/map.jinja" import postgres with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- set bouncer = postgres.pgbouncer %}
{#- Listen on the internal address only when an app host other than this one must connect. #}
{%- set listen_addresses = ['127.0.0.1'] %}
{%- if peers.roles.app.remote and peers.own_address %}
{%-   do listen_addresses.append(peers.own_address) %}
{%- endif %}

include:
  - postgres.app

postgres-pgbouncer-package:
  pkg.installed:
    - name: {{ bouncer.package }}

# PgBouncer admits the app's role from the same addresses pg_hba.conf does, with SCRAM; any
# other host or role is refused by PgBouncer itself, before it reaches PostgreSQL.
postgres-pgbouncer-hba:
  file.managed:
    - name: {{ bouncer.config_dir }}/pg_hba.conf
    - source: salt://postgres/files/pgbouncer-hba.conf.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0640'
    - context:
        postgres: {{ postgres | tojson }}
        app_addresses: {{ peers.roles.app.remote | tojson }}
    - require:
      - pkg: postgres-pgbouncer-package

# The role's password in clear, as PgBouncer needs it both to check a client's SCRAM proof and
# to log in to PostgreSQL itself. Readable only by the postgres user PgBouncer runs as.
postgres-pgbouncer-userlist:
  file.managed:
    - name: {{ bouncer.config_dir }}/userlist.txt
    - source: salt://postgres/files/pgbouncer-userlist.txt.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0600'
    - show_changes: False
    - context:
        user: {{ postgres.app.user | tojson }}
        password: {{ postgres.app.password | string | tojson }}
    - require:
      - pkg: postgres-pgbouncer-package

postgres-pgbouncer-config:
  file.managed:
    - name: {{ bouncer.config_dir }}/pgbouncer.ini
    - source: salt://postgres/files/pgbouncer.ini.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0640'
    - context:
        postgres: {{ postgres | tojson }}
        listen_addresses: {{ listen_addresses | tojson }}
    - require:
      - pkg: postgres-pgbouncer-package

# Users and hba rules are re-read on reload; listen addresses and ports only at start.
postgres-pgbouncer-service:
  service.running:
    - name: {{ bouncer.service }}
    - reload: True
    - require:
      - postgres_database: postgres-app-database
    - watch:
      - file: postgres-pgbouncer-userlist
      - file: postgres-pgbouncer-hba

postgres-pgbouncer-restart:
  module.run:
    - service.restart:
      - name: {{ bouncer.service }}
    - onchanges:
      - file: postgres-pgbouncer-config
    - require:
      - service: postgres-pgbouncer-service

postgres-pgbouncer-enabled:
  service.enabled:
    - name: {{ bouncer.service }}
    - require:
      - pkg: postgres-pgbouncer-package
