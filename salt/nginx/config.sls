{%- from "nginx/map.jinja" import nginx with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- set site_file = nginx.sites_available ~ '/' ~ nginx.site.name ~ '.conf' %}

include:
  - nginx.package

# Proxy headers live in a snippet so the TLS server block added later includes the same lines.
nginx-proxy-snippet:
  file.managed:
    - name: {{ nginx.snippets_dir }}/{{ nginx.site.name }}-proxy.conf
    - source: salt://nginx/files/proxy.conf.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0644'
    - context:
        nginx: {{ nginx | tojson }}
    - require:
      - pkg: nginx-package

nginx-site-config:
  file.managed:
    - name: {{ site_file }}
    - source: salt://nginx/files/site.conf.jinja
    - template: jinja
    - user: root
    - group: root
    - mode: '0644'
    - context:
        nginx: {{ nginx | tojson }}
        upstream_addresses: {{ (peers.roles.app.addresses or ['127.0.0.1']) | tojson }}
    - require:
      - pkg: nginx-package
      - file: nginx-proxy-snippet

nginx-site-enabled:
  file.symlink:
    - name: {{ nginx.sites_enabled }}/{{ nginx.site.name }}.conf
    - target: {{ site_file }}
    - require:
      - file: nginx-site-config

nginx-default-site-absent:
  file.absent:
    - name: {{ nginx.sites_enabled }}/{{ nginx.default_site }}
    - require:
      - pkg: nginx-package

# nginx reads every file above as one configuration; check the whole before any reload.
# Limitation: the check runs after the files are in place; on failure nginx keeps serving the
# old configuration but a restart would load the broken one (check_cmd cannot test one site).
nginx-config-test:
  cmd.run:
    - name: nginx -t
    - onchanges:
      - file: nginx-proxy-snippet
      - file: nginx-site-config
      - file: nginx-site-enabled
      - file: nginx-default-site-absent
