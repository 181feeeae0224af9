# Check the pillar against every formula's schema before any state runs. failhard stops the
# whole run at the first failure, so a wrong value changes nothing on the host. Each formula
# includes this file, so it also runs when one formula is applied alone. The schemas are read
# here, at render time, so the same state works over salt-ssh, where a module on the host
# cannot fetch files from the master.
{%- set schema = {} %}
{%- for formula in ['validation', 'hardening', 'nginx', 'certs', 'postgres', 'redis', 'app',
                    'monitoring'] %}
{%-   import_yaml formula ~ '/schema.yaml' as part %}
{%-   do schema.update(part) %}
{%- endfor %}

pillar-validated:
  pillar_schema.validated:
    - schema: {{ schema | tojson }}
    - order: 1
    - failhard: True
