{%- from "redis/map.jinja" import redis with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- if not redis.password %}
{{-   raise('redis:password is empty: set it in pillar (redis requires a password here)') }}
{%- endif %}
{#- Listen on the internal address only when an app host other than this one must connect. #}
{%- set bind_addresses = ['127.0.0.1'] %}
{%- if peers.roles.app.remote and peers.own_address %}
{%-   do bind_addresses.append(peers.own_address) %}
{%- endif %}

include:
  - redis.package

redis-config:
  file.managed:
    - name: {{ redis.config_file }}
    - source: salt://redis/files/redis.conf.jinja
    - template: jinja
    - user: {{ redis.user }}
    - group: {{ redis.group }}
    - mode: '0640'
    - show_changes: False
    - context:
        redis: {{ redis | tojson }}
        bind_addresses: {{ bind_addresses | tojson }}
    - require:
      - pkg: redis-package
