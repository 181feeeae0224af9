{%- from "postgres/map.jinja" import postgres with context %}
{%- if not postgres.app.password %}
{{-   raise('postgres:app:password is empty: set it in pillar for role ' ~ postgres.app.user) }}
{%- endif %}

include:
  - postgres.service

# The salt postgres module runs psql as the postgres OS user over the local socket (peer).
# With encrypted: scram-sha-256 it compares the pillar password against the stored SCRAM
# verifier (same salt and iteration count), so an unchanged password reports no change.
postgres-app-role:
  postgres_user.present:
    - name: {{ postgres.app.user }}
    - password: {{ postgres.app.password | string | tojson }}
    - encrypted: scram-sha-256
    - login: True
    - superuser: False
    - createdb: False
    - createroles: False
    - replication: False
    - user: postgres
    - db_port: {{ postgres.port }}
    - require:
      - service: postgres-service
      - module: postgres-service-restart

postgres-app-database:
  postgres_database.present:
    - name: {{ postgres.app.database }}
    - owner: {{ postgres.app.user }}
    - encoding: {{ postgres.app.encoding }}
    - template: {{ postgres.app.template }}
    - user: postgres
    - db_port: {{ postgres.port }}
    - require:
      - postgres_user: postgres-app-role
