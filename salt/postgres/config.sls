{%- from "postgres/map.jinja" import postgres with context %}
{%- from "common/peers.jinja" import peers with context %}
{%- from "postgres/sizes.jinja" import sizes, mem_mib with context %}
{%- set cluster_dir = '/etc/postgresql/%s/%s' % (postgres.version, postgres.cluster) %}
{#- Listen on the internal address only when an app host other than this one must connect. #}
{%- set listen_addresses = ['localhost'] %}
{%- if peers.roles.app.remote and peers.own_address %}
{%-   do listen_addresses.append(peers.own_address) %}
{%- endif %}

include:
  - postgres.package

# Debian's postgresql.conf reads conf.d/*.conf last, so these drop-ins win over it.
# listen_addresses needs a restart, the other settings only a reload: hence two files.
postgres-listen-config:
  file.managed:
    - name: {{ cluster_dir }}/conf.d/50-salt-listen.conf
    - makedirs: True
    - source: salt://postgres/files/listen.conf.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0644'
    - context:
        postgres: {{ postgres | tojson }}
        listen_addresses: {{ listen_addresses | tojson }}
        sizes: {{ sizes | tojson }}
    - require:
      - pkg: postgres-package

postgres-tuning-config:
  file.managed:
    - name: {{ cluster_dir }}/conf.d/50-salt-tuning.conf
    - makedirs: True
    - source: salt://postgres/files/tuning.conf.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0644'
    - context:
        sizes: {{ sizes | tojson }}
        mem_mib: {{ mem_mib }}
    - require:
      - pkg: postgres-package

postgres-auth-config:
  file.managed:
    - name: {{ cluster_dir }}/conf.d/50-salt-auth.conf
    - makedirs: True
    - source: salt://postgres/files/auth.conf.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0644'
    - context:
        postgres: {{ postgres | tojson }}
    - require:
      - pkg: postgres-package

postgres-hba-config:
  file.managed:
    - name: {{ cluster_dir }}/pg_hba.conf
    - source: salt://postgres/files/pg_hba.conf.jinja
    - template: jinja
    - user: postgres
    - group: postgres
    - mode: '0640'
    - context:
        postgres: {{ postgres | tojson }}
        app_addresses: {{ peers.roles.app.remote | tojson }}
    - require:
      - pkg: postgres-package
