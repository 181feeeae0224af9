{%- from "certs/map.jinja" import certs, site with context %}

certs-tls-dir:
  file.directory:
    - name: {{ site.tls_dir }}
    - makedirs: True
    - mode: '0750'

certs-bootstrap-key:
  x509.private_key_managed:
    - name: {{ site.tls_dir }}/bootstrap.key
    - algo: ec
    - keysize: 256
    - mode: '0600'
    - require:
      - file: certs-tls-dir

# Re-issued only when it nears its end or the names change; never used once the real
# certificate is in place.
certs-bootstrap-cert:
  x509.certificate_managed:
    - name: {{ site.tls_dir }}/bootstrap.crt
    - signing_private_key: {{ site.tls_dir }}/bootstrap.key
    - CN: {{ site.names[0] }}
    - subjectAltName: {{ site.names | map('regex_replace', '^', 'DNS:') | join(', ') }}
    - days_valid: {{ certs.bootstrap_days }}
    - days_remaining: 7
    - mode: '0644'
    - require:
      - x509: certs-bootstrap-key

# nginx reads the pair through these links. They point at the bootstrap pair only while no
# real certificate exists; certs.acme points them at certbot's live files.
certs-bootstrap-links:
  file.symlink:
    - names:
      - {{ site.tls_dir }}/fullchain.pem:
        - target: {{ site.tls_dir }}/bootstrap.crt
      - {{ site.tls_dir }}/privkey.pem:
        - target: {{ site.tls_dir }}/bootstrap.key
    - unless: test -e {{ site.live }}/fullchain.pem
    - require:
      - x509: certs-bootstrap-cert
