{%- from "app/map.jinja" import app with context %}
{%- from "postgres/map.jinja" import postgres with context %}
{%- from "redis/map.jinja" import redis with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- if not postgres.app.password %}
{{-   raise('postgres:app:password is empty: the app needs it for DATABASE_URL') }}
{%- endif %}
{%- if not redis.password %}
{{-   raise('redis:password is empty: the app needs it for REDIS_URL') }}
{%- endif %}
{#- The first db/cache address: 127.0.0.1 when the role runs here, else the first other host
    by minion ID, else 127.0.0.1 so a lone host still renders (the health check says why). #}
{%- set database_host = (peers.roles.db.addresses or ['127.0.0.1'])[0] %}
{%- set cache_host = (peers.roles.cache.addresses or ['127.0.0.1'])[0] %}
{#- Only the proxies may set X-Forwarded-*: the web hosts, and this host for local tests. #}
{%- set forwarded_allow_ips = ['127.0.0.1'] + peers.roles.web.remote %}

include:
  - app.user

app-config-dir:
  file.directory:
    - name: {{ app.config_dir }}
    - user: root
    - group: {{ app.group }}
    - mode: '0750'
    - require:
      - group: app-group

app-env-file:
  file.managed:
    - name: {{ app.config_dir }}/env
    - source: salt://app/files/env.jinja
    - template: jinja
    - user: {{ app.user }}
    - group: {{ app.group }}
    - mode: '0600'
    - show_changes: False
    - context:
        database: {{ {
            'host': database_host,
            'port': postgres.pgbouncer.port,
            'direct_port': postgres.port,
            'name': postgres.app.database,
            'user': postgres.app.user,
            'password': postgres.app.password | string,
          } | tojson }}
        cache: {{ {
            'host': cache_host,
            'port': redis.port,
            'db': app.cache.db,
            'password': redis.password | string,
          } | tojson }}
        forwarded_allow_ips: {{ forwarded_allow_ips | tojson }}
    - require:
      - file: app-config-dir
      - user: app-user

app-gunicorn-config:
  file.managed:
    - name: {{ app.config_dir }}/gunicorn.conf.py
    - source: salt://app/files/gunicorn.conf.py.jinja
    - template: jinja
    - user: root
    - group: {{ app.group }}
    - mode: '0640'
    - context:
        app: {{ app | tojson }}
        forwarded_allow_ips: {{ forwarded_allow_ips | tojson }}
    - require:
      - file: app-config-dir
