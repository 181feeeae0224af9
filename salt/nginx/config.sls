{%- from "nginx/map.jinja" import nginx with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- set site_file = nginx.sites_available ~ '/' ~ nginx.site.name ~ '.conf' %}
{%- set snippets = nginx.snippets_dir ~ '/' ~ nginx.site.name %}
{%- set checked = '/usr/local/sbin/nginx-check-candidate' %}

include:
  - nginx.package
  - certs.bootstrap

# Every file below is tested as part of the whole configuration before it replaces the live
# one (check_cmd), so a broken file never lands; the snippets come before the site that
# includes them.
nginx-check-script:
  file.managed:
    - name: {{ checked }}
    - source: salt://nginx/files/nginx-check-candidate
    - mode: '0755'

nginx-dhparam:
  file.managed:
    - name: {{ nginx.config_dir }}/ffdhe2048.pem
    - source: salt://nginx/files/ffdhe2048.pem
    - mode: '0644'
    - require:
      - pkg: nginx-package

nginx-acme-webroot:
  file.directory:
    - name: {{ nginx.acme_webroot }}/.well-known/acme-challenge
    - makedirs: True
    - mode: '0755'

{%- for snippet, template, target in [
      ('nginx-main-config', 'nginx.conf.jinja', nginx.config_dir ~ '/nginx.conf'),
      ('nginx-proxy-snippet', 'proxy.conf.jinja', snippets ~ '-proxy.conf'),
      ('nginx-headers-snippet', 'headers.conf.jinja', snippets ~ '-headers.conf'),
      ('nginx-tls-snippet', 'tls.conf.jinja', snippets ~ '-tls.conf'),
      ('nginx-ratelimit-config', 'ratelimit.conf.jinja',
       nginx.conf_dir ~ '/' ~ nginx.site.name ~ '-ratelimit.conf'),
    ] %}

{{ snippet }}:
  file.managed:
    - name: {{ target }}
    - source: salt://nginx/files/{{ template }}
    - template: jinja
    - mode: '0644'
    - check_cmd: {{ checked }} {{ target }}
    - context:
        nginx: {{ nginx | tojson }}
    - require:
      - file: nginx-check-script
      - file: nginx-dhparam
{%- endfor %}

nginx-site-config:
  file.managed:
    - name: {{ site_file }}
    - source: salt://nginx/files/site.conf.jinja
    - template: jinja
    - mode: '0644'
    - check_cmd: {{ checked }} {{ site_file }}
    - context:
        nginx: {{ nginx | tojson }}
        upstream_addresses: {{ (peers.roles.app.addresses or ['127.0.0.1']) | tojson }}
        acme_webroot: {{ nginx.acme_webroot }}
        tls_dir: {{ nginx.tls_dir }}/{{ nginx.site.name }}
    - require:
      - file: nginx-proxy-snippet
      - file: nginx-headers-snippet
      - file: nginx-tls-snippet
      - file: nginx-ratelimit-config
      - file: nginx-acme-webroot
      - file: certs-bootstrap-links

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

# The last gate before a reload: the whole configuration as it now stands. It matters on the
# first run, when the site is enabled only after its file was checked on its own.
nginx-config-test:
  cmd.run:
    - name: nginx -t -q
    - onchanges:
      - file: nginx-main-config
      - file: nginx-proxy-snippet
      - file: nginx-headers-snippet
      - file: nginx-tls-snippet
      - file: nginx-ratelimit-config
      - file: nginx-site-config
      - file: nginx-site-enabled
      - file: nginx-default-site-absent
