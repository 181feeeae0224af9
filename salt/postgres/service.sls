{%- from "postgres/map.jinja" import postgres with context %}

include:
  - postgres.package
  - postgres.config

# Authentication changes take effect on reload; open sessions are kept.
postgres-service:
  service.running:
    - name: {{ postgres.service }}
    - reload: True
    - require:
      - pkg: postgres-package
      - file: postgres-listen-config
    - watch:
      - file: postgres-auth-config
      - file: postgres-hba-config
      - file: postgres-tuning-config

# listen_addresses is read only at server start, so its change needs a restart.
postgres-service-restart:
  module.run:
    - service.restart:
      - name: {{ postgres.service }}
    - onchanges:
      - file: postgres-listen-config
    - require:
      - service: postgres-service

# Enabled by a state of its own: a service.running that also enables reports a change, and Salt
# then skips the restart or reload that a watched file asked for.
postgres-service-enabled:
  service.enabled:
    - name: {{ postgres.service }}
    - require:
      - pkg: postgres-package
