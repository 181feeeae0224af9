{%- from "redis/map.jinja" import redis with context %}

redis-package:
  pkg.installed:
    - name: {{ redis.package }}
