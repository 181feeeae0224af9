{%- from "nginx/map.jinja" import nginx with context %}

include:
  - nginx.package
  - nginx.config

# Reload, never restart, and only when a checked file changed: open connections survive.
nginx-service:
  service.running:
    - name: {{ nginx.service }}
    - reload: True
    - require:
      - pkg: nginx-package
      - cmd: nginx-config-test
    - watch:
      - file: nginx-dhparam
      - file: nginx-main-config
      - file: nginx-proxy-snippet
      - file: nginx-headers-snippet
      - file: nginx-tls-snippet
      - file: nginx-ratelimit-config
      - file: nginx-site-config
      - file: nginx-site-enabled
      - file: nginx-default-site-absent

# Enabled by a state of its own: a service.running that also enables reports a change, and Salt
# then skips the restart or reload that a watched file asked for.
nginx-service-enabled:
  service.enabled:
    - name: {{ nginx.service }}
    - require:
      - pkg: nginx-package
