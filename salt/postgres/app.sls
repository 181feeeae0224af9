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

# The database is the app's alone: no other role may even connect to it.
postgres-app-database-private:
  cmd.run:
    - name: >-
        psql -v ON_ERROR_STOP=1 -qc
        'REVOKE ALL ON DATABASE "{{ postgres.app.database }}" FROM PUBLIC'
    - runas: postgres
    - unless: >-
        test "$(psql -tAc "SELECT count(*) FROM pg_database, aclexplode(datacl) a
        WHERE datname = '{{ postgres.app.database }}' AND a.grantee = 0")" = 0
        && test -n "$(psql -tAc "SELECT datacl FROM pg_database
        WHERE datname = '{{ postgres.app.database }}'")"
    - require:
      - postgres_database: postgres-app-database
