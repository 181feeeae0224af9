{%- from "certs/map.jinja" import certs, site with context %}
{%- if certs.acme.enabled %}
{%-   set ca_file = '/etc/letsencrypt/acme-directory-ca.pem' %}
{%-   set env = {'REQUESTS_CA_BUNDLE': ca_file} if certs.acme.ca_bundle else {} %}

include:
  - certs.bootstrap
  - nginx.service

certs-certbot-package:
  pkg.installed:
    - name: {{ certs.package }}

{%-   if certs.acme.ca_bundle %}

# A private ACME CA serves its directory with a certificate of its own CA: certbot must trust
# it, for the first certificate and for every renewal the timer runs.
certs-acme-directory-ca:
  file.managed:
    - name: {{ ca_file }}
    - contents: {{ certs.acme.ca_bundle | tojson }}
    - makedirs: True
    - mode: '0644'

certs-certbot-timer-env:
  file.managed:
    - name: /etc/systemd/system/certbot.service.d/acme-directory-ca.conf
    - makedirs: True
    - contents: |
        # Managed by Salt (certs formula): trust the private ACME CA's directory.
        [Service]
        Environment=REQUESTS_CA_BUNDLE={{ ca_file }}

certs-certbot-daemon-reload:
  module.run:
    - service.systemctl_reload: []
    - onchanges:
      - file: certs-certbot-timer-env
{%-   endif %}

# Renewals run from the platform's timer; after each, nginx checks its configuration and
# reloads to serve the new certificate.
certs-deploy-hook:
  file.managed:
    - name: /etc/letsencrypt/renewal-hooks/deploy/50-reload-nginx
    - makedirs: True
    - mode: '0755'
    - contents: |
        #!/bin/sh
        # Managed by Salt (certs formula): serve a renewed certificate at once.
        nginx -t -q && systemctl reload nginx

certs-names-check:
  file.managed:
    - name: /usr/local/sbin/certs-names-match
    - source: salt://certs/files/certs-names-match
    - mode: '0755'

# Asks for a certificate when there is none, when its names differ from the site's (a name
# added to the site is on the certificate in the same run) or when it came from another CA.
certs-obtain:
  cmd.run:
    - name: >-
        certbot certonly --non-interactive --agree-tos --quiet
        {%- if certs.email %} --email {{ certs.email }}{% else %} --register-unsafely-without-email{% endif %}
        --server {{ certs.acme.directory }}
        --webroot --webroot-path {{ site.webroot }}
        --cert-name {{ site.name }} --key-type {{ certs.key_type }}
        {%- for name in site.names %} --domain {{ name }}{% endfor %}
    - env: {{ env | tojson }}
    - unless: >-
        /usr/local/sbin/certs-names-match {{ site.live }}/cert.pem {{ site.names | join(' ') }}
        && grep -qxF 'server = {{ certs.acme.directory }}' /etc/letsencrypt/renewal/{{ site.name }}.conf
    - require:
      - pkg: certs-certbot-package
      - file: certs-names-check
      - file: certs-deploy-hook
      - service: nginx-service
{%-   if certs.acme.ca_bundle %}
      - file: certs-acme-directory-ca
{%-   endif %}

certs-live-links:
  file.symlink:
    - names:
      - {{ site.tls_dir }}/fullchain.pem:
        - target: {{ site.live }}/fullchain.pem
      - {{ site.tls_dir }}/privkey.pem:
        - target: {{ site.live }}/privkey.pem
    - force: True
    - onlyif: test -e {{ site.live }}/fullchain.pem
    - require:
      - cmd: certs-obtain

# The links now lead to the real pair: reload (a checked configuration) to serve it.
certs-nginx-reload:
  module.run:
    - service.reload:
      - name: nginx
    - onchanges:
      - cmd: certs-obtain
      - file: certs-live-links

certs-renewal-timer:
  service.running:
    - name: certbot.timer
    - require:
      - pkg: certs-certbot-package

certs-renewal-timer-enabled:
  service.enabled:
    - name: certbot.timer
    - require:
      - pkg: certs-certbot-package
{%- endif %}
