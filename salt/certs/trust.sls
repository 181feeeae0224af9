{%- from "certs/map.jinja" import certs with context %}
{%- set store = '/usr/local/share/ca-certificates' %}

# Private CA roots in the host's trust store: one file each, the store rebuilt on a change.
{%- for pem in certs.trust_roots %}

certs-trusted-root-{{ loop.index }}:
  file.managed:
    - name: {{ store }}/wsp-trusted-root-{{ loop.index }}.crt
    - contents: {{ pem | trim | tojson }}
    - makedirs: True
    - mode: '0644'
{%- endfor %}

{%- if certs.trust_roots %}

# Limitation: a root taken out of pillar stays in the store until it is removed by hand.
certs-trust-store:
  cmd.run:
    - name: update-ca-certificates
    - onchanges:
{%-   for pem in certs.trust_roots %}
      - file: certs-trusted-root-{{ loop.index }}
{%-   endfor %}
{%- endif %}
