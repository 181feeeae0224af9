{%- from "redis/map.jinja" import redis with context %}

include:
  - redis.package
  - redis.config

redis-service:
  service.running:
    - name: {{ redis.service }}
    - require:
      - pkg: redis-package
    - watch:
      - file: redis-config

# Enabled by a state of its own: a service.running that also enables reports a change, and Salt
# then skips the restart or reload that a watched file asked for.
redis-service-enabled:
  service.enabled:
    - name: {{ redis.service }}
    - require:
      - pkg: redis-package
